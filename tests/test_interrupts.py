"""Ctrl-C (SIGINT from the terminal) or SIGTERM (a closed job, a CI stop) to any target at a point
where it has started something: nothing it started is left running, no impairment is left active,
no half-written file, what a measurement had measured is kept, and the next make tcp serves the lesson."""
import os

import pexpect
import pytest

from socketlab import engine, health, sweep
from socketlab.paths import ROOT, STATE
from makeplay import (ALL_SIGNALS, LESSON, SIGNALS, answered_udp, containers, impairments, interrupt, lab_up, leftovers, make,
                      person_env, project_name, run, udp_client_lines, wait_received)

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('interrupts')]
PROJECT = project_name('-interrupts')
RUN = os.environ.get('SOCKET_LAB_RUN', '')
MEASURING = 300  # seconds a measurement may go without printing: far past what it needs alone (a few)


@pytest.fixture(scope='module')
def running_lab():
    """This module's lab, brought up by make lab and taken down after it: its project's name."""
    yield from lab_up(PROJECT)


def one_offs(labels):
    return labels.get(engine.PROJECT_LABEL) == PROJECT and labels.get(engine.ONEOFF_LABEL) == 'True'


def half_written():
    return [p for folder in (ROOT / 'results', STATE) if folder.exists() for p in folder.rglob('*.tmp')]


@pytest.mark.parametrize('stop', SIGNALS)
def test_make_lab_stopped_while_it_starts_the_lab(stop):
    project = project_name('-interrupted-lab-' + stop.__name__)
    terminal = make(project, 'lab')
    status = interrupt(terminal, lambda: containers(lambda labels: labels.get(engine.PROJECT_LABEL) == project), stop,
                       'make lab never created a container')
    assert status != (0, None)
    assert not half_written()
    output, status = run(project, 'lab')
    assert status == 0 and any(line.startswith('The lab is up') for line in output), output
    assert run(project, 'tcp') == (LESSON['client'], 0)
    assert run(project, 'down')[1] == 0
    assert leftovers(project) == ([], [])


@pytest.mark.parametrize('stop', SIGNALS)
def test_make_impair_stopped_half_way_leaves_nothing_impaired(running_lab, stop):
    def helper_running():
        return any(c.get('com.docker.compose.service', '').startswith('impair-') for c in
                   (c.attrs.get('Labels') or {} for c in engine.client().containers.list(sparse=True))
                   if c.get(engine.PROJECT_LABEL) == PROJECT)
    terminal = make(PROJECT, 'impair', 'LOSS=100')
    status, _ = interrupt(terminal, helper_running, stop, 'make impair never started its helper')
    assert status != 0
    assert 'healed: nothing is impaired' in terminal.before
    output, status = run(PROJECT, 'status')
    assert status == 0 and impairments(output) == ['server: no impairment', 'netcat: no impairment'], output
    assert not containers(one_offs) and not half_written()
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


@pytest.mark.parametrize('stop', SIGNALS)
def test_make_nc_stopped_then_the_udp_exchange_works(running_lab, stop):
    udp = make(PROJECT, 'udp', 'ARGS=--timeout 2')
    try:
        udp.expect_exact(LESSON['client'][0] + '\r\n')
        wait_received(PROJECT, 'Hello, world')
        nc = make(PROJECT, 'nc')
        nc.expect_exact('Hello, world')  # attached: what nc received is on the screen
        interrupt(nc, lambda: True, stop, '')
        udp.expect(pexpect.EOF)
    finally:
        udp.close(force=True)
    assert 'no UDP reply from netcat port 12345 within 2 s' in udp.before  # nc stopped before a reply
    assert not containers(one_offs)
    client_lines, nc_ip, status = answered_udp(PROJECT)  # a fresh listener, the exchange as the lesson shows it
    assert (client_lines, status) == (udp_client_lines(nc_ip), 0)
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


@pytest.mark.measure  # a measurement target, stopped (on this module's lab): after the rest of the suite
@pytest.mark.parametrize('stop', SIGNALS)
def test_make_loss_table_stopped_heals_and_gives_the_server_back(running_lab, stop):
    terminal = make(PROJECT, 'loss-table', env={'LOSSES': '30', 'RUNS': '3'})
    status, _ = interrupt(terminal, lambda: terminal.expect_exact('|---|') == 0, stop, 'make loss-table never began',
                          timeout=MEASURING)
    assert status != 0
    output, status = run(PROJECT, 'status')
    assert impairments(output) == ['server: no impairment', 'netcat: no impairment'], '{}; make loss-table printed:\n{}'.format(
        output, terminal.before)
    assert not containers(one_offs) and not half_written()
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


@pytest.mark.measure
@pytest.mark.xdist_group('speed-stopped')  # a group of its own: make speed's copy, beside this module's lab
@pytest.mark.parametrize('stop', ALL_SIGNALS)
def test_make_speed_stopped_removes_its_copy_whole(stop):
    """Stopped once its copy's lab runs: the copy's containers, network, images and folder all go."""
    def of_the_copy(labels):
        return labels.get(engine.PROJECT_LABEL, '').startswith(sweep.RUN_PROJECT_PREFIX + RUN + '-speed-')
    terminal = pexpect.spawn('make', ['speed', 'SPEED_ARGS=--runs 1 --composes v2 --no-cold --no-suite'], cwd=str(ROOT),
                             env=person_env(), encoding='utf-8', timeout=MEASURING)
    running = []

    def copy_runs():
        running[:] = [c for c in containers(of_the_copy) if c.status == 'running']
        return running
    status, _ = interrupt(terminal, copy_runs, stop, "make speed's copy never ran its lab", timeout=MEASURING)
    folder = running[0].attrs['Labels']['com.docker.compose.project.working_dir']
    assert status != 0
    left = [(c.name, c.status) for c in containers(of_the_copy)]
    assert not left, '{}; make speed printed:\n{}'.format(left, terminal.before)
    assert not [n for n in engine.client().networks.list() if of_the_copy(n.attrs.get('Labels') or {})]
    assert not [tag for image in engine.client().images.list() for tag in image.tags
                if tag.startswith(sweep.RUN_PROJECT_PREFIX + RUN + '-speed-')]
    assert not os.path.exists(folder)


@pytest.mark.measure
@pytest.mark.parametrize('stop', ALL_SIGNALS)
def test_make_soak_stopped_leaves_no_client_and_the_lab_serves(running_lab, stop):
    terminal = make(PROJECT, 'soak', env={'SOAK_EXCHANGES': '1000', 'SOAK_CONNECTIONS': '10'})
    status, _ = interrupt(terminal, lambda: containers(one_offs), stop, 'make soak never started its client', timeout=MEASURING)
    assert status != 0
    left = [(c.name, c.status) for c in containers(one_offs)]
    assert not left, '{}; make soak printed:\n{}'.format(left, terminal.before)
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


@pytest.fixture(scope='module')
def other_lab():
    """A lab of this run beside the nested make test (on a worker of its own: not this module's lab)."""
    yield from lab_up(PROJECT + '-beside')


# Moments of a nested make test (one worker, tests/test_robustness.py) at which it is stopped: a test
# ended is its mark on pytest's progress line, whatever its verdict (. F E s x: the nested run's own
# verdicts are not this test's; under this suite's load one of them once failed, and no moment came).
MOMENTS = {
    'at-its-first-container': lambda terminal, nested: containers(nested),
    'after-its-first-test': lambda terminal, nested: terminal.expect(r'items?\]\s+[.FEsx]', timeout=MEASURING) == 0,
    'after-its-third-test': lambda terminal, nested: terminal.expect(r'items?\]\s+[.FEsx]{3}', timeout=MEASURING) == 0,
}


@pytest.mark.measure
@pytest.mark.xdist_group('nested-test')  # a group of its own (nested-test_interrupts), beside a lab of its own
@pytest.mark.parametrize('moment', MOMENTS)
@pytest.mark.parametrize('stop', SIGNALS)
def test_make_test_stopped_sweeps_its_own_run_and_nothing_else(other_lab, stop, moment):
    def nested(labels):
        return (labels.get(engine.RUN_LABEL, '').startswith(RUN + '-test-')
                or labels.get(engine.PROJECT_LABEL, '').startswith(sweep.RUN_PROJECT_PREFIX + RUN + '-test-'))
    terminal = pexpect.spawn('make', ['test', 'TEST_WORKERS=1', 'PYTEST_ARGS=-p no:cacheprovider --color=no tests/test_robustness.py'],
                             cwd=str(ROOT), env=person_env(), encoding='utf-8', timeout=health.WAIT)
    status, _ = interrupt(terminal, lambda: MOMENTS[moment](terminal, nested), stop,
                          'the nested make test never got {}'.format(moment.replace('-', ' ')), timeout=MEASURING)
    assert status != 0
    assert not containers(nested)
    assert not [n for n in engine.client().networks.list() if nested(n.attrs.get('Labels') or {})]
    assert not [v for v in engine.client().volumes.list() if nested(v.attrs.get('Labels') or {})]
    assert run(other_lab, 'tcp') == (LESSON['client'], 0)  # the suite's own lab untouched
