"""The lab's one way to make a container that compose does not make itself: a client's exchange, nc as a
client, a wire helper (socketlab.oneoff), a role of an exchange (socketlab.exchanges), a bench's server
and load (socketlab.measure.bench), the base image's check (socketlab.images).

Each is made from compose's own normalised model of one of compose.yaml's services (socketlab.topology:
the same image, user, read-only root, capabilities, limits, mounts, healthcheck and logs), with what the
caller adds or changes. One whose creation was cut short (Ctrl-C while the Engine makes it) is removed
once the Engine has made it; one whose start or wait fails, or is cut short, is
removed too, as testcontainers' containers are. A wait is a named strategy: a line in its log
(LogLine), its compose healthcheck (Healthy), a port it listens on (Listening).
"""
import re

from . import engine, health, topology

# How long a stopped target waits for the Engine to finish creating a container it asked for (then removes it).
CREATE_BOUND = 60


def create(service, name, command=(), environment=None, labels=None, network=None, aliases=(), own_environment=False,
           **changes):
    """A container of SERVICE (compose's normalised model of it), named NAME, created, not started.
    COMMAND: its entrypoint's arguments; ENVIRONMENT and LABELS: added to the service's (OWN_ENVIRONMENT:
    ENVIRONMENT in place of the service's, which holds the lab's settings); NETWORK: the one
    it joins (with ALIASES there), unless CHANGES give a network_mode; CHANGES: the docker SDK's options
    that differ from the service's (image, entrypoint, tty, mounts, pids_limit, log_config, ...)."""
    from docker.types import EndpointConfig
    options, tmpfs = topology.container_options(service)
    options.update(changes)
    if network is not None and 'network_mode' not in options:
        options['network'] = network
        if aliases:
            options['networking_config'] = {network: EndpointConfig(engine.client().api.api_version, aliases=list(aliases))}
    image = options.pop('image', None) or service['image']
    inherited = {} if own_environment else {key: str(value) for key, value in (service.get('environment') or {}).items()}
    environment = {**inherited, **(environment or {})}
    labels = {**(service.get('labels') or {}), **(labels or {})}
    # Asked from a thread of its own, which a signal never interrupts: the Engine lists a container before it
    # can be found by its name, so one whose creation a Ctrl-C cut short is removed once the Engine has it.
    # The Future is made first: a Ctrl-C that lands while the thread starts finds it too (seen under load).
    import concurrent.futures
    asked = concurrent.futures.Future()
    try:
        engine.aside(lambda: engine.client().containers.create(image, list(command), name=name, environment=environment,
                                                               labels=labels, tmpfs=tmpfs, **options), 'create-' + name, asked)
        return asked.result()
    except KeyboardInterrupt:
        if not asked.cancel():  # it began: what it makes is removed once the Engine has made it
            try:
                remove(asked.result(timeout=CREATE_BOUND))
            except Exception:  # noqa: BLE001 - it was never made (or not in time): by its name, if it is there
                remove_named(name)
        raise


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
    try:
        container.remove(force=True)
    except engine.errors().NotFound:
        pass


def remove_named(name):
    try:
        engine.client().containers.get(name).remove(force=True)
    except engine.errors().NotFound:
        pass


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
