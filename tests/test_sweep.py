"""A sweep removes one run's things and nothing else; without a run id it removes nothing at all (an
empty id once matched everything on the engine that had no run label)."""
import os

import pytest

from socketlab import engine, sweep


def test_a_sweep_without_a_run_id_is_refused_before_it_asks_the_engine():
    with pytest.raises(ValueError):
        sweep.sweep('')
    assert not sweep.made_by({}, '') and not sweep.made_by({engine.RUN_LABEL: ''}, '')


def test_made_by_a_run_and_the_runs_it_started_only():
    assert sweep.made_by({engine.RUN_LABEL: 'ab12'}, 'ab12')
    assert sweep.made_by({engine.RUN_LABEL: 'ab12-bench-77'}, 'ab12')
    assert sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab12-wire'}, 'ab12')
    assert sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab12'}, 'ab12')
    assert not sweep.made_by({engine.RUN_LABEL: 'ab123'}, 'ab12')
    assert not sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab123-wire'}, 'ab12')
    assert not sweep.made_by({engine.PROJECT_LABEL: 'socket-lab'}, 'ab12')
    assert not sweep.made_by({}, 'ab12')


@pytest.mark.docker
def test_a_sweep_removes_the_images_a_run_tagged_for_itself_and_no_other():
    """Tags under the run's own prefix (make speed's copy, the base built from base/Dockerfile) go; the
    image behind them, and a tag under another run's prefix, stay."""
    import uuid
    run, other = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    base = engine.client().images.get('socket-lab/base')
    mine, theirs = sweep.image_prefix(run) + 'speed-x/base', sweep.image_prefix(other) + 'speed-x/base'
    base.tag(mine)
    base.tag(theirs)
    try:
        assert sweep.sweep(run) == 1
        tags = {tag for image in engine.client().images.list() for tag in image.tags}
        assert mine + ':latest' not in tags and theirs + ':latest' in tags and 'socket-lab/base:latest' in tags
    finally:
        for tag in (mine, theirs):
            try:
                engine.client().images.remove(tag)
            except engine.errors().ImageNotFound:
                pass


def test_the_processes_a_group_signal_also_reached_are_found_and_ancestors_are_not():
    """sweep_when_stopped waits for these: a child in this process group is one; this process's
    ancestors (make, waiting for it) are not."""
    import os
    import subprocess
    child = subprocess.Popen(['sleep', '30'])
    try:
        others = sweep._others('ab12')
        assert child.pid in others and os.getpid() not in others and os.getppid() not in others
    finally:
        child.kill()
        child.wait()
    assert child.pid not in sweep._others('ab12')


def test_a_process_that_has_exited_is_not_waited_for():
    """A stopped make test's pytest, exited but not yet waited for (the stop cut the wait): a zombie of
    the group, done; waiting for it held every stopped run for the whole bound (25 s)."""
    import subprocess
    import sys
    import time
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    try:
        def state():
            with open('/proc/{}/stat'.format(child.pid)) as f:
                return f.read().rpartition(')')[2].split()[0]
        deadline = time.monotonic() + 30
        while state() != 'Z' and time.monotonic() < deadline:  # until it has exited (not waited for)
            time.sleep(0.01)
        assert state() == 'Z'
        assert child.pid not in sweep._others('ab12')
    finally:
        child.wait()



def test_the_runs_processes_in_sessions_of_their_own_are_found_by_their_environment():
    """The makes the suite starts in terminals of their own (pexpect: a session each) are not reached by
    a signal to make test's group: they are known by the run they carry (SOCKET_LAB_RUN), its own or a
    run it started, and another run's are not."""
    import os
    import subprocess
    import sys
    # Each child says it runs before it is looked for: Popen returns at the exec, before the kernel has
    # laid out the new program's environment, so /proc/<pid>/environ can read empty for a moment then.
    started = {run: subprocess.Popen([sys.executable, '-c', 'import time; print(flush=True); time.sleep(30)'],
                                     stdout=subprocess.PIPE, start_new_session=True,
                                     env={**os.environ, 'SOCKET_LAB_RUN': run})
               for run in ('ab12', 'ab12-check-77', 'ab123', 'cd34')}
    try:
        for child in started.values():
            child.stdout.readline()
        others = sweep._others('ab12')
        assert {run: others.get(child.pid) for run, child in started.items()} == {
            'ab12': False, 'ab12-check-77': False, 'ab123': None, 'cd34': None}
    finally:
        for child in started.values():
            child.kill()
            child.wait()
            child.stdout.close()


@pytest.mark.docker
def test_a_stopped_run_tells_its_sessions_to_stop_even_one_that_shows_its_run_late():
    """sweep_when_stopped stops what carries its run in a session of its own, also a process that takes
    on the run only after the first pass looked (a make just starting): each pass tells those it finds.
    Told once, on the first pass only, the late one ran on and held the stop for the whole bound. The
    sweep runs in a session of its own beside one process of its group that is still ending (a sleep of
    3 s: what the group signal reached), as make test's after a stop; in this worker's session the suite's
    other processes would count as the stopped run's, still at work, for the whole bound."""
    import subprocess
    import sys
    import uuid
    run = uuid.uuid4().hex[:8]
    late = 'import os, time; time.sleep(1); os.execvpe("sleep", ["sleep", "60"], {**os.environ, "SOCKET_LAB_RUN": %r})' % run
    child = subprocess.Popen([sys.executable, '-c', late], start_new_session=True)
    try:
        sweeping = 'import sys; from socketlab import sweep; sys.exit(sweep.sweep_when_stopped({!r}, bound=20.0))'.format(run)
        stopped = subprocess.run(['sh', '-c', 'sleep 3 & exec "$0" -c "$1"', sys.executable, sweeping],
                                 start_new_session=True, timeout=120)
        assert stopped.returncode == 0
        assert child.wait(timeout=5) == -15  # told (SIGTERM), within the bound
    finally:
        child.kill()
        child.wait()


@pytest.mark.docker
def test_a_run_that_ended_kills_what_still_carries_it():
    """A make that a failing test could not stop (in a terminal of its own, deaf to SIGTERM) outlived
    its suite by minutes; at the run's end, what still carries the run is killed, what does not is left."""
    import subprocess
    import sys
    import uuid
    run = uuid.uuid4().hex[:8]
    deaf = 'import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("up", flush=True); time.sleep(120)'
    children = {name: subprocess.Popen([sys.executable, '-c', deaf], start_new_session=True, stdout=subprocess.PIPE,
                                       env={**os.environ, 'SOCKET_LAB_RUN': value})
                for name, value in (('ours', run + '-check-1'), ('another', uuid.uuid4().hex[:8]))}
    try:
        for child in children.values():
            assert child.stdout.readline() == b'up\n'
        sweep.sweep_when_done(run)
        assert children['ours'].wait(timeout=30) == -9
        assert children['another'].poll() is None
    finally:
        for child in children.values():
            child.kill()
            child.wait()
            child.stdout.close()
