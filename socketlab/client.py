"""The lesson's client (and nc as a TCP client) run against the lab: `make tcp`, `make udp`, `make
tcp-nc`, `make server-nc`, and the next lesson's loops of clients, `make clients`. Each is a new
container, a new host on the lab network; what it prints is the transcript the lesson shows."""
import os

from . import engine, images, lab, netcat, oneoff
from .settings import SettingError, port
from .wire import capture

# The next lesson's loop, `for i in {1..100}; do python3 ClientPython.py; done`, with the count given
# as an argument (bash expands {1..100} before it would read a variable). Each client is a new connection.
LOOP = 'for ((i = 1; i <= $1; i++)); do python3 /app/ClientPython.py; done'
LOOP_ENTRYPOINT = ['python3', '/lab/outlive.py', 'bash', '-c', LOOP, 'loop']  # a host outlives its sockets


def _maybe_captured(settings, compose, peer, service, name, *args):
    def exchange(trace=None):
        return oneoff.run(settings, compose, 'client', peer, *args, trace=trace)[0]
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


def clients(settings, compose):
    """make clients N=100 LOOPS=2: LOOPS loops of N clients, started at once, each loop in a container
    (a host) of its own, as the lesson's terminals 2 and 3; then the server's last line."""
    count, loops = port('N', os.environ.get('N') or '100'), port('LOOPS', os.environ.get('LOOPS') or '1')
    if count > 1000 or loops > 4:
        raise SettingError('bad N or LOOPS: give N from 1 to 1000 and LOOPS from 1 to 4')
    images.ensure(settings, 'client')
    server = lab.server(settings, compose)
    totals = [line for line in server.logs(stderr=False).decode(errors='replace').splitlines() if line.startswith('Total')]
    if totals:  # the server counts on from its earlier clients (make lab STAGE=... again does not restart it)
        print("Before the loops, the server's last total: " + totals[-1])
    if loops == 1:  # one terminal: its lines as they come, as the lesson shows them
        status = oneoff.run(settings, compose, 'client', server, str(count), entrypoint=LOOP_ENTRYPOINT)[0]
    else:
        started = [oneoff.create(settings, compose, 'client', server, str(count), entrypoint=LOOP_ENTRYPOINT)
                   for _ in range(loops)]
        try:
            addresses = []
            for container in started:
                container.start()
                container.reload()
                addresses.append(engine.address(container))
            status = max(container.wait()['StatusCode'] for container in started)
            for number, (container, address) in enumerate(zip(started, addresses), 1):
                lines = container.logs(stderr=False).decode(errors='replace').splitlines()
                print('loop {} on {}: {} clients, {} printed "Received: b\'Hello, world\'"'.format(
                    number, address, lines.count('Starting client...'), lines.count("Received: b'Hello, world'")))
        finally:
            for container in started:
                oneoff.remove(container)
    last = server.logs(stderr=False).decode(errors='replace').splitlines()[-1:]
    print("The server's last line (make logs shows them all): " + (last[0] if last else '(none)'))
    return status
