"""Waiting for the real signal, bounded: a container's healthcheck passing, a line in its log.
One `eventually` serves every wait; nothing here sleeps a fixed time as synchronisation."""
import time

from .engine import errors, execute

WAIT = 30.0  # seconds: the most any one wait may take
POLL = 0.05


class NotYet(AssertionError):
    pass


class Never(NotYet):
    """Raised by a check when what it waits for can no longer come (a terminal that closed): eventually
    says so at once, not after its bound."""


def eventually(check, timeout=WAIT, what='it'):
    """check() until it returns something true (which is returned); after `timeout` seconds, NotYet
    with the last reason check() gave (an AssertionError it raised) or `what`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
            reason = what
        except Never:
            raise
        except AssertionError as error:
            reason = str(error) or what
        if time.monotonic() > deadline:
            raise NotYet('{} (waited {:g} s)'.format(reason, timeout))
        time.sleep(POLL)


def healthcheck_command(container):
    """The container's own compose healthcheck, as argv for docker exec."""
    test = container.attrs['Config']['Healthcheck']['Test']
    return ['sh', '-c', test[1]] if test[0] == 'CMD-SHELL' else test[1:]


def wait_healthy(container, timeout=WAIT, unhealthy=None):
    """Until the container's healthcheck passes (run here, not at docker's next 1 s interval).
    Raises StoppedError if the container stops, and Unreachable(what) as soon as unhealthy() says
    what is wrong (a failing check that will not pass by waiting)."""
    if container.attrs['State'].get('Health', {}).get('Status') == 'healthy':
        return
    command = healthcheck_command(container)

    def healthy():
        try:
            if execute(container, command)[0] == 0:
                return True
        except errors().APIError:
            pass  # it stopped meanwhile: said below
        container.reload()
        if container.status != 'running':
            raise StoppedError(container)
        wrong = unhealthy() if unhealthy else None
        if wrong:
            raise Unreachable(wrong)
        return False
    eventually(healthy, timeout, '{} is not healthy'.format(container.name))


class Unreachable(RuntimeError):
    """The container runs, but where no one else reaches it; str() says where."""


class StoppedError(RuntimeError):
    def __init__(self, container):
        super().__init__('{} stopped'.format(container.name))
        self.container = container
