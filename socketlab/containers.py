"""The lab's one way to make a container that compose does not make itself: a client's exchange, nc as a
client, a wire helper (socketlab.oneoff), a role of an exchange (socketlab.exchanges), a bench's server
and load (socketlab.measure.bench), the base image's check (socketlab.images).

Each is made from compose's own normalised model of one of compose.yaml's services (socketlab.topology:
the same image, user, read-only root, capabilities, limits, mounts, healthcheck and logs), with what the
caller adds or changes, in the Engine's create request (made here from a table of the options the lab
uses). One whose creation was cut short (Ctrl-C while the Engine makes it) is removed once the Engine
has made it; one whose start or wait fails, or is cut short, is removed too, as testcontainers' are. A
wait is a named strategy: a line in its log (LogLine), its compose healthcheck (Healthy), a port it
listens on (Listening).
"""
import re

from . import api, engine, health, topology

# The lab's container options (socketlab.topology.container_options, and what a caller changes) and where
# each goes in the Engine's create request: its Config, or its HostConfig.
CONFIG = {'user': 'User', 'entrypoint': 'Entrypoint', 'working_dir': 'WorkingDir', 'stdin_open': 'OpenStdin',
          'tty': 'Tty', 'hostname': 'Hostname', 'healthcheck': 'Healthcheck'}
HOST_CONFIG = {'read_only': 'ReadonlyRootfs', 'cap_drop': 'CapDrop', 'cap_add': 'CapAdd', 'security_opt': 'SecurityOpt',
               'mem_limit': 'Memory', 'pids_limit': 'PidsLimit', 'nano_cpus': 'NanoCpus', 'init': 'Init',
               'mounts': 'Mounts', 'log_config': 'LogConfig', 'network_mode': 'NetworkMode', 'pid_mode': 'PidMode',
               'tmpfs': 'Tmpfs'}


def config(service, command=(), environment=None, labels=None, network=None, aliases=(), own_environment=False,
           **changes):
    """The Engine's create request for a container of SERVICE (compose's normalised model of it).
    COMMAND: its entrypoint's arguments; ENVIRONMENT and LABELS: added to the service's (OWN_ENVIRONMENT:
    ENVIRONMENT in place of the service's, which holds the lab's settings); NETWORK: the one it joins
    (with ALIASES there), unless CHANGES give a network_mode; CHANGES: the options (CONFIG, HOST_CONFIG)
    that differ from the service's (image, entrypoint, tty, mounts, pids_limit, log_config, ...)."""
    options, tmpfs = topology.container_options(service)
    options.update(tmpfs=tmpfs, **changes)
    unknown = set(options) - set(CONFIG) - set(HOST_CONFIG) - {'image'}
    if unknown:
        raise ValueError('socketlab.containers does not know the options {}'.format(sorted(unknown)))
    joined = network if network is not None and 'network_mode' not in options else None
    if joined is not None:
        options['network_mode'] = joined
    inherited = {} if own_environment else {key: str(value) for key, value in (service.get('environment') or {}).items()}
    environment = {**inherited, **(environment or {})}
    if 'user' in options:
        options['user'] = str(options['user'])
    stdin = bool(options.get('stdin_open'))
    body = {'Image': options.pop('image', None) or service['image'], 'Cmd': list(command),
            'Env': ['{}={}'.format(key, value) for key, value in environment.items()],
            'Labels': {**(service.get('labels') or {}), **(labels or {})},
            'AttachStdin': stdin, 'StdinOnce': stdin, 'AttachStdout': True, 'AttachStderr': True,
            **{CONFIG[key]: value for key, value in options.items() if key in CONFIG},
            'HostConfig': {HOST_CONFIG[key]: value for key, value in options.items() if key in HOST_CONFIG}}
    if joined is not None and aliases:
        body['NetworkingConfig'] = {'EndpointsConfig': {joined: {'Aliases': list(aliases)}}}
    return body


def create(service, name, command=(), **options):
    """A container of SERVICE, named NAME, created, not started (config() says what OPTIONS take), as the
    docker SDK's model of it."""
    made = create_id(service, name, command, **options)
    try:
        return engine.client().containers.get(made)
    except BaseException:  # a stop (or a failure) before the caller holds it: not left behind
        remove(made)
        raise


def create_id(service, name, command=(), **options):
    """The same, its id alone: for a caller that needs nothing of the docker SDK (socketlab.oneoff.run). One
    whose creation a stop cuts short is removed once the Engine has made it (socketlab.api.create)."""
    return api.create(config(service, command, **options), name)


def start(container, wait=None):
    """Starts the container and waits as WAIT says (a strategy, or None: started is enough); if either
    fails or is cut short, the container is removed and the error raised."""
    try:
        container.start()
        if wait is not None:
            wait.wait_until_ready(container)
    except BaseException:
        remove(container)
        raise
    return container


def remove(container):
    """Removed, running or not (a container, its id or its name); one already gone is no error."""
    api.remove(container if isinstance(container, str) else container.id)


def logs(container):
    """All it printed so far, standard output and error together, as text."""
    return container.logs().decode(errors='replace')


class LogLine:
    """Ready once its log holds PATTERN (a regular expression), within TIMEOUT seconds (else NotYet, saying
    WHAT). A program that prints it and exits at once is ready too: the Engine may report the exit before
    its log has the line, so the log is read again (bounded) before the exit counts (StoppedError)."""

    def __init__(self, pattern, timeout=health.WAIT, what=None):
        self.pattern = re.compile(pattern)
        self.timeout, self.what = timeout, what
        self.seen = ''  # what it had printed when last read (a failed wait's callers say it: the container is gone)

    def _printed(self, container):
        self.seen = logs(container)
        return self.pattern.search(self.seen)

    def wait_until_ready(self, container):
        def printed():
            if self._printed(container):
                return True
            container.reload()
            if container.status != 'running':
                raise health.Never('{} exited'.format(container.name))
            return False
        try:
            health.eventually(printed, timeout=self.timeout,
                              what=self.what or '{} never printed {!r}'.format(container.name, self.pattern.pattern))
        except health.Never:  # it exited: its last lines may still be on their way to the log
            try:
                health.eventually(lambda: self._printed(container))
            except health.NotYet:
                raise health.StoppedError(container) from None


class Healthy:
    """Ready once its compose healthcheck passes (run here: socketlab.health.wait_healthy)."""

    def wait_until_ready(self, container):
        container.reload()
        health.wait_healthy(container)


class Listening:
    """Ready once it listens on TCP PORT (ss, in the container); RuntimeError with its output if it stops first."""

    def __init__(self, port, what):
        self.port, self.what = port, what

    def wait_until_ready(self, container):
        listening = ['sh', '-c', "ss -Hltn 'sport = :{}' | grep -q LISTEN".format(self.port)]

        def ready():
            if engine.execute(container, listening)[0] == 0:
                return True
            container.reload()
            if container.status != 'running':
                raise RuntimeError('{} stopped: {}'.format(self.what, logs(container).strip()))
            return False
        try:
            health.eventually(ready, what='{} did not start listening'.format(self.what))
        except health.NotYet as error:
            raise RuntimeError(str(error)) from None
