"""socketlab.containers, the lab's one container builder, against the real Engine: a creation that a
Ctrl-C cuts short leaves no container, whenever the Ctrl-C comes; the container is the one compose.yaml
says (its create request made from the lab's table of options)."""
import os
import signal
import socket
import tempfile
import threading
import uuid

import pytest

from conftest import RUN
from socketlab import api, containers, engine, health, sweep, topology
from socketlab.target import Target

pytestmark = pytest.mark.docker


class SlowEngine:
    """The Engine's socket, through a proxy that holds the first create request's exchange at one
    MOMENT and sends this process a real SIGINT there: 'before' (the request has reached the proxy; the
    Engine gets it and makes the container only after the KeyboardInterrupt was raised) or 'after' (the
    Engine has made it; its answer comes back only after the KeyboardInterrupt). Every other request
    passes as it is."""

    def __init__(self, moment, interrupted):
        self.moment, self.interrupted, self.held = moment, interrupted, threading.Event()
        self.folder = tempfile.mkdtemp(prefix='socket-lab-slow-engine-')
        self.path = os.path.join(self.folder, 'docker.sock')
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(self.path)
        self.listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        request = client.recv(1 << 20)
        held = request.startswith(b'POST /containers/create') and not self.held.is_set()
        if held:
            self.held.set()
        if held and self.moment == 'before':
            self._interrupt()
        with socket.socket(socket.AF_UNIX) as engine_side:
            engine_side.connect(api.DEFAULT_SOCKET)
            engine_side.sendall(request)
            answer = b''
            while chunk := engine_side.recv(65536):
                answer += chunk
        if held and self.moment == 'after':
            self._interrupt()
        client.sendall(answer)
        client.close()

    def _interrupt(self):
        os.kill(os.getpid(), signal.SIGINT)
        self.interrupted.wait(timeout=health.WAIT)

    def close(self):
        self.listener.close()
        os.unlink(self.path)
        os.rmdir(self.folder)


@pytest.mark.parametrize('moment', ['before', 'after'])
def test_a_creation_that_ctrl_c_cuts_short_leaves_no_container(settings, compose, monkeypatch, moment):
    """The Engine goes on making a container whose caller was stopped: a Ctrl-C while it made one used to
    leave it, in state created (seen: make soak stopped under load). Here a real SIGINT comes while the
    Engine has the request (before it makes the container, and after); the builder reads the Engine's
    answer all the same and removes what it made, before the KeyboardInterrupt goes on."""
    if not os.path.exists(api.DEFAULT_SOCKET) or os.environ.get('DOCKER_HOST', 'unix://').split('://')[0] != 'unix':
        pytest.skip('the proxy stands in front of the Engine at {}'.format(api.DEFAULT_SOCKET))
    service = topology.normalised_services(Target(settings, compose))['netcat']
    name = '{}{}-containers-{}'.format(sweep.RUN_PROJECT_PREFIX, RUN, uuid.uuid4().hex[:8])
    interrupted = threading.Event()
    slow = SlowEngine(moment, interrupted)

    def ctrl_c(number, frame):
        interrupted.set()
        raise KeyboardInterrupt
    monkeypatch.setenv('DOCKER_HOST', 'unix://' + slow.path)
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        with pytest.raises(KeyboardInterrupt):
            containers.create_id(service, name, labels={engine.RUN_LABEL: RUN})
    finally:
        signal.signal(signal.SIGINT, previous)
        slow.close()
    assert interrupted.is_set() and slow.held.is_set()
    monkeypatch.delenv('DOCKER_HOST')
    with pytest.raises(api.NotFound):
        api.inspect(name)


def test_a_container_is_made_as_compose_yaml_says(settings, compose):
    """The create request from the lab's own table: what the Engine made holds each option compose.yaml
    gives the service (tests/test_hardening.py checks every container of a run against its promises)."""
    service = topology.normalised_services(Target(settings, compose))['client']
    name = '{}{}-containers-{}'.format(sweep.RUN_PROJECT_PREFIX, RUN, uuid.uuid4().hex[:8])
    made = containers.create_id(service, name, ['--help'], labels={engine.RUN_LABEL: RUN}, environment={'EXTRA': '1'},
                                network='none', tty=True)
    try:
        attrs = api.inspect(made).attrs
    finally:
        containers.remove(made)
    config, host = attrs['Config'], attrs['HostConfig']
    assert (config['Image'], config['Entrypoint'], config['Cmd'], config['User'], config['Tty']) == (
        service['image'], service['entrypoint'], ['--help'], service['user'], True)
    assert {'EXTRA=1', 'SERVER_NAME=server'} <= set(config['Env']) and config['Labels'][engine.RUN_LABEL] == RUN
    assert (host['ReadonlyRootfs'], host['Init'], host['CapDrop'], host['SecurityOpt'], host['NetworkMode']) == (
        True, True, service['cap_drop'], service['security_opt'], 'none')
    assert (host['Memory'], host['PidsLimit'], host['NanoCpus']) == (
        topology.container_options(service)[0]['mem_limit'], service['pids_limit'], int(float(service['cpus']) * 1e9))
    assert host['LogConfig'] == {'Type': service['logging']['driver'], 'Config': service['logging']['options']}
    assert {(m['Target'], m['Source'], m['ReadOnly']) for m in host['Mounts']} == {
        (v['target'], v['source'], v.get('read_only', False)) for v in service['volumes']}
    assert set(host['Tmpfs']) == {entry.split(':')[0] for entry in service['tmpfs']}
