"""The Docker Engine, through the docker SDK: the lab's containers (found by compose's own labels),
its images, and the labels that say which run made something."""
import functools
import os

PROJECT_LABEL = 'com.docker.compose.project'
SERVICE_LABEL = 'com.docker.compose.service'
ONEOFF_LABEL = 'com.docker.compose.oneoff'
# Every container and network a run (make test, make exchange, make bench) makes carries this label
# with the run's id, so that the run removes what it made and nothing else (socketlab.sweep).
RUN_LABEL = 'socket-lab.run'
DEFAULT_SOCKET = '/var/run/docker.sock'  # the Engine's address where DOCKER_HOST (or a docker context) names none


class EngineMissing(RuntimeError):
    pass


def host():
    """The Engine's address, as the docker SDK and socketlab.api read it (socketlab.context sets DOCKER_HOST first)."""
    return os.environ.get('DOCKER_HOST') or 'unix://' + DEFAULT_SOCKET


def unreachable(error):
    """The one line said when the Engine cannot be reached (by the docker SDK or by socketlab.api), and where."""
    return EngineMissing('Docker Engine is not reachable at {}: start it (docker info says why): {}'.format(host(), error))


@functools.cache
def client():
    import docker  # imported when needed: a few hundredths of a second that `make help` need not pay
    from . import context
    context.use()  # the docker CLI's current context, which the docker SDK does not read
    try:
        engine = docker.from_env()  # asks the Engine its API version: unreachable, it raises here (no ping needed)
    except docker.errors.DockerException as error:
        raise unreachable(error) from None
    return engine


def model(container):
    """The docker SDK's model of a container socketlab.api has read (as it was read: reload() reads it again)."""
    return client().containers.prepare_model(container.attrs)


def aside(call, name, asked):
    """CALL (an Engine request) made from a daemon thread of its own, its outcome set on the Future
    ASKED: a signal never interrupts it half-way, and the caller may wait for several at once. The
    caller makes ASKED first, so that a stop landing while the thread starts still finds it; one
    cancelled before the thread began is never asked. The thread ends with the process (its connection
    closed, the Engine drops what it was doing)."""
    import threading

    def ask():
        if not asked.set_running_or_notify_cancel():
            return
        try:
            asked.set_result(call())
        except BaseException as error:  # noqa: BLE001 - handed to the caller, who raises it
            asked.set_exception(error)
    threading.Thread(target=ask, name=name, daemon=True).start()


def errors():
    import docker.errors
    return docker.errors


def containers(project, service=None, all=False, oneoff=False):
    """The project's containers (of one service), as compose labels them; one-off runs left out unless asked."""
    labels = ['{}={}'.format(PROJECT_LABEL, project)]
    if service:
        labels.append('{}={}'.format(SERVICE_LABEL, service))
    found = []
    for listed in client().containers.list(all=all, filters={'label': labels}, sparse=True):
        if oneoff or (listed.attrs.get('Labels') or {}).get(ONEOFF_LABEL, 'False') != 'True':
            try:
                found.append(client().containers.get(listed.id))
            except errors().NotFound:
                pass  # removed meanwhile
    return found


def service_container(project, service, all=False):
    """The one container of a lab service (server, netcat), or None."""
    found = containers(project, service, all=all)
    return found[0] if found else None


def network_of(container):
    """The name of the network the container is on (its only one: the lab's, an exchange's, a bench's)."""
    return next(iter(container.attrs['NetworkSettings']['Networks']))


def address(container, network=None):
    """The container's address on its (only, or the named) network."""
    networks = container.attrs['NetworkSettings']['Networks']
    if network:
        return networks[network]['IPAddress']
    return next(iter(networks.values()))['IPAddress'] if networks else ''


def execute(container, argv):
    """ARGV run in the container to its end: (its exit status, its output). The SDK's exec_run reads the
    status as soon as the output has ended, when the Engine may not have recorded it yet (None: seen under
    load, where make nc then showed nothing of what nc had received); here it is asked for until known."""
    from .health import eventually
    api = client().api
    exec_id = api.exec_create(container.id, argv)['Id']
    output = api.exec_start(exec_id)

    def ended():
        state = api.exec_inspect(exec_id)
        return None if state['Running'] else (state['ExitCode'],)
    (status,) = eventually(ended, what='{} in {} never ended'.format(argv[0], container.name))
    return status, output


def image(name):
    """The image of that name, or None when there is none."""
    try:
        return client().images.get(name)
    except errors().ImageNotFound:
        return None


def image_exists(name):
    return image(name) is not None


def fail(message):
    """Stops the operation with MESSAGE (said by __main__, exit 1): how every operation reports what stopped it."""
    from .errors import LabError
    raise LabError(message)
