"""The nc listener a person types into: a fresh one for each exchange (nc -l serves only its first
peer), and `make nc`, which attaches the person's terminal to it."""
import subprocess
import sys

from . import engine, health
from .wire import impair


def received(container):
    """What nc has received so far (netcat/listen.sh keeps a copy in /tmp/nc-received)."""
    try:
        result = container.exec_run(['cat', '/tmp/nc-received'])
    except engine.errors().APIError:
        return ''
    return result.output.decode(errors='replace') if result.exit_code == 0 else ''


def command(container):
    """The nc command line the listener runs (netcat/listen.sh writes it down)."""
    result = container.exec_run(['cat', '/tmp/nc-command'])
    return result.output.decode(errors='replace').strip() if result.exit_code == 0 else 'nc'


def fresh(settings, compose, mode='udp'):
    """A listener that has heard from nobody yet, in MODE (udp, or tcp for make tcp-nc), healthy.
    An unused one is kept, with anyone attached to it; a used or stopped one is replaced."""
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
    impair.sync(settings, compose)
    return container


def attach(settings):
    """make nc: what nc received so far, then the person's terminal attached to it (Ctrl-P Ctrl-Q detaches)."""
    container = engine.service_container(settings.project, 'netcat')
    if container is None:
        engine.fail('netcat is not running: make lab')
    print('[attached to nc: type a reply and press Enter; Ctrl-P Ctrl-Q detaches]', file=sys.stderr, flush=True)
    sys.stdout.write(received(container))
    sys.stdout.flush()
    status = subprocess.run(['docker', 'attach', container.id]).returncode
    container.reload()
    if status and container.status == 'running':
        print('[detached: nc keeps listening]', file=sys.stderr)
        return 0
    return status
