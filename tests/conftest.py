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
