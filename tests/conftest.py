import docker
import pytest

import labkit


@pytest.fixture(scope='session')
def docker_client():
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.exit('Docker Engine is not reachable: {}'.format(error), returncode=1)
    missing = [image for image in ('socket-lab/server', 'socket-lab/client', 'socket-lab/netcat')
               if not client.images.list(name=image)]
    if missing:
        pytest.exit('missing images {}: run the suite with `make test`, which builds them'.format(missing), returncode=1)
    return client


def pytest_sessionfinish(session):
    """Ryuk cannot run here (no registry to pull it from): the suite removes what this run made itself,
    whatever the outcome, once all workers are done; `make test` sweeps once more after pytest."""
    if not hasattr(session.config, 'workerinput'):  # the main process, not a pytest-xdist worker
        try:
            labkit.sweep(run=labkit.RUN_ID)
        except docker.errors.DockerException:
            pass


@pytest.fixture
def lab(docker_client):
    lab = labkit.Lab()
    yield lab
    lab.close()


# The slowest modules first, so that pytest-xdist's workers finish together.
SLOW_FIRST = ['tests/test_wire.py', 'tests/test_make.py', 'tests/test_bench.py', 'tests/test_robustness.py']


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split('::')[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)
    items.sort(key=rank)  # a stable sort: each module's own order stays


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """tests/test_wire.py shares one lab across its tests (its impairments are that lab's state), and
    tests/test_bench.py one bench run: each module goes to one worker; every other test is scheduled on
    its own, as by --dist load."""
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerForTheWireLab(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split('::')[0]
            return path if path in ('tests/test_wire.py', 'tests/test_bench.py') else nodeid

    return OneWorkerForTheWireLab(config, log)
