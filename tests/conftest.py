"""The suite's fixtures. Tests marked `docker` need the Docker Engine, Compose v2 and the lab's images:
where those are missing, a plain `pytest` still runs the host-side tests and skips the others with one
reason line. `make test` (python3 -m socketlab test) builds the images, runs this suite on
pytest-xdist's workers and then removes what its run made."""
import functools

import pytest

from socketlab import compose as composes, engine, sweep
from socketlab.settings import Settings

RUN = sweep.new_run()  # shared with the workers, which inherit the environment


@functools.cache
def docker_missing():
    """Why the docker tests cannot run here, or None."""
    try:
        engine.client()
    except engine.EngineMissing as error:
        return str(error)
    settings = Settings.from_environment({})
    missing = [name for name in ('base', 'server', 'client', 'netcat') if not engine.image_exists(settings.image(name))]
    if missing:
        return 'the lab images {} are missing: `make test` builds them'.format(', '.join(missing))
    try:
        composes.choose('v2')
    except composes.ComposeMissing as error:
        return str(error)
    return None


def _loops_of_clients(item):
    """Whether the test plays one of the next lesson's loops of 100 clients (long, mostly waiting)."""
    callspec = getattr(item, 'callspec', None)
    name = callspec.params.get('name') if callspec else None
    if not name or item.module.__name__ != 'test_exchanges':
        return False
    return any(role['kind'] == 'client-loop' for role in item.module.CATALOGUE[name]['roles'].values())


# The groups (one worker each, in turn) that take longest, longest first: pytest-xdist hands out whole
# groups in the order collected, so these start at once and the short tests fill the other workers
# around them (in each of make test's phases). Measured here (2 cores): wire about 75 s, loss-table 60,
# interrupts 55, lesson-files 45, bench 45, random-loss 35, faults 30, nested-test 30, make-v2 and
# make-v1 30 each.
LONGEST = ('wire', 'loss-table', 'interrupts', 'lesson-files', 'bench', 'random-loss', 'faults', 'nested-test',
           'make-v2', 'make-v1', 'edit-loop', 'hardening', 'soak')


def _order(item):
    group = item.get_closest_marker('xdist_group')  # a test's own group (xdist joins it to its module's)
    name = group.args[0] if group else None
    if name in LONGEST:
        return (0, LONGEST.index(name))
    return (1, not _loops_of_clients(item), group is None)  # then the loops of clients: 10-25 s each


def pytest_collection_modifyitems(config, items):
    items.sort(key=_order)
    reason = None
    for item in items:
        if item.get_closest_marker('docker'):
            reason = reason or docker_missing()
            if reason:
                item.add_marker(pytest.mark.skip(reason='no Docker here: ' + reason))


def pytest_sessionfinish(session):
    """A run of pytest alone (not through make test) removes what it made too, once all workers are done."""
    if not hasattr(session.config, 'workerinput') and docker_missing() is None:
        sweep.sweep(RUN)


def pytest_terminal_summary(terminalreporter):
    """What the lessons say varies (e.g. the racing total), as it came in this run: reported, not asserted."""
    varied = [value for report in terminalreporter.stats.get('passed', []) if report.when == 'call'
              for key, value in report.user_properties if key == 'varies']
    if varied:
        terminalreporter.write_sep('-', 'what the lessons say varies, this run')
        for line in varied:
            terminalreporter.write_line(line)


@pytest.fixture(scope='session')
def settings():
    """The lab's default settings (the user's own lab settings are not the suite's)."""
    return Settings.from_environment({})


@pytest.fixture(scope='session')
def compose():
    return composes.choose('v2')


@pytest.fixture
def lab(settings, compose):
    from socketlab.exchanges import Lab
    from socketlab.target import Target
    lab = Lab(Target(settings, compose), RUN)
    yield lab
    lab.close()
