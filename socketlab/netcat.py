"""The nc listener a person types into: a fresh one for each exchange (nc -l serves only its first
peer), and `make nc`, which attaches the person's terminal to it."""
import os
import subprocess
import sys
import termios

from . import engine, health
from .wire import impair


def received(container):
    """What nc has received so far (netcat/listen.sh keeps a copy in /tmp/nc-received)."""
    try:
        status, output = engine.execute(container, ['cat', '/tmp/nc-received'])
    except engine.errors().APIError:
        return ''
    return output.decode(errors='replace') if status == 0 else ''


def command(container):
    """The nc command line the listener runs (netcat/listen.sh writes it down)."""
    status, output = engine.execute(container, ['cat', '/tmp/nc-command'])
    return output.decode(errors='replace').strip() if status == 0 else 'nc'


def fresh(target, mode='udp'):
    """A listener that has heard from nobody yet, in MODE (udp, or tcp for make tcp-nc), healthy.
    An unused one is kept, with anyone attached to it; a used or stopped one is replaced."""
    settings, compose = target.settings, target.compose
    container = engine.service_container(settings.project, 'netcat')
    used = container is None or container.status != 'running' or received(container) != ''
    args = ['up', '-d', '--no-deps'] + (['--force-recreate'] if used else []) + ['netcat']
    compose.run(settings, *args, env={'NC_MODE': mode})
    container = engine.service_container(settings.project, 'netcat')
    if container is None:
        engine.fail('netcat did not start: make logs shows why')
    try:
        health.wait_healthy(container)
    except (health.NotYet, health.StoppedError):
        engine.fail('netcat is not listening: what it printed:\n' + container.logs().decode(errors='replace'))
    impair.sync(target)
    return container


def _raw_soon(stream):
    """Whether the terminal was put in raw mode (by docker attach) within a few seconds."""
    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return False
        health.eventually(lambda: not termios.tcgetattr(fd)[3] & termios.ICANON, timeout=5)
        return True
    except (OSError, ValueError, health.NotYet):
        return False


def attach(settings):
    """make nc: what nc received so far, then the person's terminal attached to it (Ctrl-P Ctrl-Q detaches)."""
    container = engine.service_container(settings.project, 'netcat')
    if container is None:
        engine.fail('netcat is not running: make lab')
    terminal = sys.stdin.fileno() if sys.stdin.isatty() else None
    saved = termios.tcgetattr(terminal) if terminal is not None else None
    attached = subprocess.Popen(['docker', 'attach', container.id])
    try:
        # What nc received so far is shown once the terminal is docker attach's (raw): keys typed after
        # seeing it reach nc, none is left to the terminal (where Ctrl-Q would be flow control).
        end = '\r\n' if _raw_soon(sys.stdin) else '\n'
        sys.stderr.write('[attached to nc: type a reply and press Enter; Ctrl-P Ctrl-Q detaches]' + end)
        sys.stderr.flush()
        sys.stdout.write(received(container).replace('\n', end))
        sys.stdout.flush()
        status = attached.wait()
    finally:
        if attached.poll() is None:  # Ctrl-C or SIGTERM to make nc: the attach goes (a signal it would pass on to nc)
            attached.kill()
            attached.wait()
        if saved is not None:  # the terminal as it was, whatever state the attach left it in
            termios.tcsetattr(terminal, termios.TCSADRAIN, saved)
    container.reload()
    if status and container.status == 'running':
        print('[detached: nc keeps listening]', file=sys.stderr)
        return 0
    return status
