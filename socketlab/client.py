"""The lesson's client (and nc as a TCP client) run against the lab, as one-off compose runs:
`make tcp`, `make udp`, `make tcp-nc`, `make server-nc`. Each is a new container, a new host on the
lab network; what it prints is the transcript the lesson shows."""
from . import images, lab, netcat, oneoff
from .wire import capture


def _maybe_captured(settings, compose, peer, service, name, *args):
    def exchange():
        return oneoff.run(settings, compose, 'client', peer, *args)[0]
    return capture.around(settings, compose, service, name, exchange) if settings.capture else exchange()


def tcp(settings, compose):
    images.ensure(settings, 'client')
    server = lab.server(settings, compose)
    return _maybe_captured(settings, compose, server, 'server', 'tcp', *settings.args)


def udp(settings, compose):
    images.ensure(settings, 'client', 'netcat')
    listener = netcat.fresh(settings, compose)
    return _maybe_captured(settings, compose, listener, 'netcat', 'udp', '--udp', '--host', 'netcat', *settings.args)


def tcp_nc(settings, compose):
    images.ensure(settings, 'client', 'netcat')
    listener = netcat.fresh(settings, compose, mode='tcp')
    return _maybe_captured(settings, compose, listener, 'netcat', 'tcp-nc', '--host', 'netcat', *settings.args)


def server_nc(settings, compose):
    """The server lesson's own check: nc as a TCP client of the server (typed into; Ctrl-D closes)."""
    images.ensure(settings, 'netcat')
    server = lab.server(settings, compose)
    return oneoff.run_in_terminal(settings, compose, 'netcat', server, '-N', 'server', str(settings.server_port),
                                  entrypoint=['nc.openbsd'])
