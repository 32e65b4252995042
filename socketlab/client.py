"""The lesson's client (and nc as a TCP client) run against the lab, as one-off compose runs:
`make tcp`, `make udp`, `make tcp-nc`, `make server-nc`. Each is a new container, a new host on the
lab network; what it prints is the transcript the lesson shows."""
from . import images, lab, netcat, oneoff
from .wire import capture


def run(settings, compose, *args, service='client', entrypoint=None):
    """The one-off run of SERVICE with ARGS, its output passed through; returns its exit status."""
    return oneoff.run(settings, compose, service, *args, entrypoint=entrypoint)[0]


def _maybe_captured(settings, compose, service, name, *args):
    if settings.capture:
        return capture.around(settings, compose, service, name, lambda: run(settings, compose, *args))
    return run(settings, compose, *args)


def tcp(settings, compose):
    images.ensure(settings, 'client')
    lab.server(settings, compose)
    return _maybe_captured(settings, compose, 'server', 'tcp', *settings.args)


def udp(settings, compose):
    images.ensure(settings, 'client', 'netcat')
    netcat.fresh(settings, compose)
    return _maybe_captured(settings, compose, 'netcat', 'udp', '--udp', '--host', 'netcat', *settings.args)


def tcp_nc(settings, compose):
    images.ensure(settings, 'client', 'netcat')
    netcat.fresh(settings, compose, mode='tcp')
    return _maybe_captured(settings, compose, 'netcat', 'tcp-nc', '--host', 'netcat', *settings.args)


def server_nc(settings, compose):
    """The server lesson's own check: nc as a TCP client of the server (typed into; Ctrl-D closes)."""
    images.ensure(settings, 'netcat')
    lab.server(settings, compose)
    return run(settings, compose, '-N', 'server', str(settings.server_port), service='netcat', entrypoint='nc.openbsd')
