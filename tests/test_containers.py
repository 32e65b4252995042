"""socketlab.containers, the lab's one container builder, against the real Engine."""
import concurrent.futures
import os
import signal
import threading
import uuid

import pytest

from conftest import RUN
from socketlab import containers, engine, health, sweep, topology
from socketlab.target import Target

pytestmark = pytest.mark.docker


def test_a_creation_that_ctrl_c_cuts_short_leaves_no_container_though_the_engine_makes_it_after(settings, compose,
                                                                                               monkeypatch):
    """The Engine lists a container before it answers (and before it can be found by its name), and goes
    on making it when its caller is stopped: a Ctrl-C then used to leave one in state created. Here the
    Engine's side makes it only once the caller has been interrupted (a real SIGINT); the builder removes
    it all the same, before the KeyboardInterrupt goes on."""
    from docker.models.containers import ContainerCollection
    service = topology.normalised_services(Target(settings, compose))['netcat']
    name = '{}{}-containers-{}'.format(sweep.RUN_PROJECT_PREFIX, RUN, uuid.uuid4().hex[:8])
    real, asked, interrupted, engine_side = ContainerCollection.create, threading.Event(), threading.Event(), []

    def made_after_the_interrupt(self, *args, **kwargs):
        made = concurrent.futures.Future()

        def make():
            interrupted.wait(timeout=health.WAIT)
            try:
                made.set_result(real(self, *args, **kwargs))
            except Exception as error:  # noqa: BLE001 - the caller's to raise
                made.set_exception(error)
        engine_side.append(threading.Thread(target=make))
        engine_side[-1].start()
        asked.set()
        return made.result()

    def ctrl_c(number, frame):
        interrupted.set()
        raise KeyboardInterrupt
    monkeypatch.setattr(ContainerCollection, 'create', made_after_the_interrupt)
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        threading.Thread(target=lambda: asked.wait(timeout=health.WAIT) and os.kill(os.getpid(), signal.SIGINT),
                         daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            containers.create(service, name, labels={engine.RUN_LABEL: RUN})
    finally:
        signal.signal(signal.SIGINT, previous)
    for thread in engine_side:
        thread.join(timeout=health.WAIT)
    assert interrupted.is_set() and engine_side and not engine_side[0].is_alive()
    with pytest.raises(engine.errors().NotFound):
        engine.client().containers.get(name)


def test_a_ctrl_c_while_the_creating_thread_starts_leaves_no_container(settings, compose, monkeypatch):
    """Under the suite's load a Ctrl-C landed while the thread that asks the Engine was being started,
    before the builder held what that thread would make: the container stayed. Here the SIGINT comes
    inside that thread's start (the thread itself runs on and makes the container); it is removed all
    the same."""
    service = topology.normalised_services(Target(settings, compose))['netcat']
    name = '{}{}-containers-{}'.format(sweep.RUN_PROJECT_PREFIX, RUN, uuid.uuid4().hex[:8])
    real_start, asking = threading.Thread.start, []

    def start_then_ctrl_c(thread):
        real_start(thread)
        if thread.name == 'create-' + name:
            asking.append(thread)
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(10 ** 8):  # Python takes the signal at its loop's next turn: it raises here, in start
                pass

    def ctrl_c(number, frame):
        raise KeyboardInterrupt
    monkeypatch.setattr(threading.Thread, 'start', start_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            containers.create(service, name, labels={engine.RUN_LABEL: RUN})
    finally:
        signal.signal(signal.SIGINT, previous)
        monkeypatch.undo()
    (thread,) = asking
    thread.join(timeout=health.WAIT)  # the Engine has answered it
    assert not thread.is_alive()
    with pytest.raises(engine.errors().NotFound):
        engine.client().containers.get(name)
