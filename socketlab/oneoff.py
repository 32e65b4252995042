"""One-off containers of a compose service: a client's exchange, nc as a client, a wire helper.

Each is made exactly as compose.yaml's service says (compose's own normalised model, socketlab.topology),
next to a PEER, the lab container it talks to or whose network namespace it joins (a service with
network_mode "service:server" joins the server's). They are started here rather than by
`compose run`, which costs a compose process on every run and, with Docker Engine 20.10, reports every
exit status as 0 (seen with Compose v2.29 to v2.40 here). Each carries compose's labels (so `make
down` removes what a Ctrl-C left) and a name of its own, and is removed afterwards, whatever happened.
"""
import os
import re
import subprocess
import sys

from . import api, containers, engine, health, topology
from .errors import SettingError
from .wire.outlive import TRACE_MARK as _MARK

TRACE_MARK = _MARK.encode()


def name(settings, service):
    return '{}-{}-run-{}'.format(settings.project, service, os.urandom(4).hex())  # uuid's import costs more


def create(target, service_name, peer, *args, **options):
    """The container, created (not started), with ARGS after the service's command (and ENVIRONMENT
    added to the service's), as the docker SDK's model of it. BESIDE: on the peer's host (its network
    namespace, its loopback), not a host of its own on the lab network. INTERACTIVE: typed into (a
    terminal, its input open). TTY: its output on a terminal of its own (not typed into)."""
    return containers.create(**_made_as(target, service_name, peer, *args, **options))


def _made_as(target, service_name, peer, *args, entrypoint=None, name_=None, interactive=False, environment=None,
             labels=None, beside=False, tty=False):
    """What socketlab.containers makes the one-off container from: its service, name, command and options."""
    settings = target.settings
    service = topology.normalised_services(target)[service_name]
    changes = dict(stdin_open=True, tty=True) if interactive else dict(stdin_open=False, tty=tty)  # typed into: Ctrl-D ends its input
    if entrypoint is not None:
        changes['entrypoint'] = entrypoint
    if beside or str(service.get('network_mode', '')).startswith('service:'):
        changes['network_mode'] = 'container:' + peer.id
    elif service.get('network_mode') == 'none':  # a job with no network at all (the certificates)
        changes['network_mode'] = 'none'
    if str(service.get('pid', '')).startswith('service:'):  # its processes seen, as the peer's own
        changes['pid_mode'] = 'container:' + peer.id
    labels = {engine.PROJECT_LABEL: settings.project, engine.SERVICE_LABEL: service_name, engine.ONEOFF_LABEL: 'True',
              **(labels or {})}
    command = list(service.get('command') or []) + list(args)
    return dict(service=service, name=name_ or name(settings, service_name), command=command, environment=environment,
                labels=labels, network=engine.network_of(peer) if 'network_mode' not in changes else None, **changes)


def run(target, service_name, peer, *args, entrypoint=None, capture=False, quiet=False, trace=None, labels=None,
        environment=None, beside=False):
    """Runs it to its end: (exit status, its standard output if capture, else None). Otherwise its
    output passes through as it comes, standard error to standard error (unless quiet: a measurement
    that counts outcomes itself). TRACE, a list: the client's socket calls are traced (strace, by the
    client's entrypoint socketlab/wire/outlive.py) and their lines added to it, not shown. ENVIRONMENT
    and BESIDE: as for create(). Shown on a terminal, the program writes to a terminal of its own, as
    the lesson's does: its output and its errors in the order it wrote them (two pipes do not keep it).
    It talks to the Engine through socketlab.api alone: the learner's loop never imports the docker SDK."""
    tty = not capture and not quiet and sys.stdout.isatty()
    container = containers.create_id(**_made_as(
        target, service_name, peer, *args, entrypoint=entrypoint, labels=labels, beside=beside, tty=tty,
        environment={**(environment or {}), **({'SOCKET_LAB_TRACE': '1'} if trace is not None else {})}))
    try:
        stream = api.attach(container, tty)
        api.start(container)
        captured = bytearray()
        pending = bytearray()  # traced: the program's errors by whole lines, so that the trace's are told apart

        def untraced(data):
            pending.extend(data or b'')
            lines, _, rest = bytes(pending).rpartition(b'\n')
            pending[:] = rest
            return b''.join(line + b'\n' for line in lines.split(b'\n') if lines and not _traced(line, trace))
        for out, err in stream:
            if tty:  # one stream, the terminal's (its line ends made this host's again)
                out = (out or b'').replace(b'\r\n', b'\n')
            if trace is not None:
                out, err = (untraced(out), None) if tty else (out, untraced(err))
            if out and capture:
                captured += out
            for data, where in ((None if capture else out, sys.stdout), (None if quiet else err, sys.stderr)):
                if data:
                    where.buffer.write(data)
                    where.flush()
        if pending and not _traced(bytes(pending), trace) and not quiet:
            where = sys.stdout if tty else sys.stderr
            where.buffer.write(bytes(pending))
            where.flush()
        status = api.wait(container)
        return status, captured.decode(errors='replace') if capture else None
    finally:
        remove(container)


def run_in_terminal(target, service_name, peer, *args, entrypoint=None, beside=False):
    """Runs it attached to this terminal (a person types into it: `docker start -ai`); its exit status."""
    if not sys.stdin.isatty():
        raise SettingError('make {}: a person types into it: run it in a terminal'.format(
            'server-nc' if service_name == 'netcat' else service_name))
    container = containers.create_id(**_made_as(target, service_name, peer, *args, entrypoint=entrypoint, interactive=True,
                                               beside=beside))
    try:
        subprocess.run(['docker', 'start', '--attach', '--interactive', container])
        return api.inspect(container).attrs['State']['ExitCode']
    finally:
        remove(container)


def started(target, service_name, peer, *args, ready, what, name_=None, labels=None):
    """A helper that keeps running beside PEER (a capture, a tracer, a queue), started, once its output
    shows READY (bytes). If it stops or READY never comes (WHAT): removed, and RuntimeError with why and
    its output."""
    container = create(target, service_name, peer, *args, name_=name_, labels=labels)
    wait = containers.LogLine(re.escape(ready.decode()), what=what)
    try:
        return containers.start(container, wait)
    except (health.NotYet, health.StoppedError) as error:
        raise RuntimeError('{}: {}'.format(error, wait.seen.strip())) from None


def _traced(line, trace):
    """Whether LINE is one of the trace's (kept in TRACE), not the program's own."""
    if line.startswith(TRACE_MARK):
        trace.append(line[len(TRACE_MARK):].decode(errors='replace'))
        return True
    return False


remove = containers.remove
