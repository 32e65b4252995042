"""make loss-table: what make impair's random loss does on this machine, for docs/performance.md's table.
    UDP: 200 datagrams from a client to nc with LOSS% dropped on the way in; how many nc printed.
    TCP: the lesson's exchange, RUNS times with LOSS% dropped both ways at the server; how many printed
         "Received: b'Hello, world'" (client timeout 10 s), and the median time of a run (container
         start included).
Then delay (make impair DELAY=, on the container's outgoing packets) with and without loss: the same
two figures with DELAY on nc's and on the server's outgoing packets.
Bounded: 200 datagrams and RUNS exchanges per row, each with the client's timeout. Env: LOSSES
(default "0 10 30 50"), DELAYS (default "50ms 100ms"), RUNS (default 10), CUT_OFF_OTHERS (default 5).
Then the next lesson's point: one client whose packets are all lost (its host cut off the network after
it connected and sent), and CUT_OFF_OTHERS other clients after it (timeout 5 s each): how many the
simple server and the threads stage serve, and how fast."""
import statistics
import time

from .. import engine, health, lab, netcat, oneoff
from ..wire import impair

SEND = '''import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    sock.sendto(b"%d\\n" % i, ("netcat", int(sys.argv[1])))
    time.sleep(0.002)'''


# A client that connects, sends, and waits: cut off the network, it is a client whose packets are lost.
VICTIM = """import socket, time
sock = socket.create_connection(('server', %d))
sock.sendall(b'Hello')
time.sleep(60)"""


def exchanges(target, server, count, timeout):
    """The lesson's exchange COUNT times in a row: (how many delivered, their median seconds, the
    client container's start included)."""
    delivered, times = 0, []
    for _ in range(count):
        start = time.monotonic()
        _, out = oneoff.run(target, 'client', server, '--timeout', str(timeout), capture=True, quiet=True)
        times.append(time.monotonic() - start)
        delivered += "Received: b'Hello, world'" in out
    return delivered, statistics.median(times)


def settled(server, address):
    """Whether the server holds a connection from ADDRESS with nothing unread and nothing unacknowledged
    (the victim's Hello read, its echo acknowledged). Only then is the victim cut off: the Engine gives its
    freed address to the next client's container, whose kernel answers a packet still sent to it with a
    reset, and the reset would free the simple server (seen under load, when the echo was still in flight)."""
    try:
        lines = server.exec_run(['ss', '-Htn', 'state', 'established', 'dst', address]).output.decode(errors='replace')
    except engine.errors().APIError:
        return False
    return any(line.split()[:2] == ['0', '0'] for line in lines.splitlines())


def cut_off(target, stage, others):
    """(others served, their median seconds) while one client is cut off, for one server stage."""
    staged = target.with_settings(stage=stage)
    server = engine.model(lab.server(staged))
    victim = oneoff.create(staged, 'client', server, '-c', VICTIM % staged.settings.server_port, entrypoint=['python3'])
    try:
        victim.start()
        victim.reload()
        address = engine.address(victim)
        health.eventually(lambda: settled(server, address), what='the cut-off client never connected and was echoed')
        engine.client().networks.get(engine.network_of(victim)).disconnect(victim, force=True)
        return exchanges(staged, server, others, timeout=5)
    finally:
        oneoff.remove(victim)


def row(target, runs, loss, delay=''):
    """(UDP datagrams nc printed, TCP exchanges complete, their median seconds) under LOSS and DELAY."""
    settings = target.settings
    impair.set_(target, impair.Impairment(loss=loss, direction='in', delay=delay, on='netcat'))
    listener = netcat.fresh(target)
    oneoff.run(target, 'client', listener, '-c', SEND, str(settings.server_port), entrypoint=['python3'], capture=True)
    udp = len(netcat.received(engine.service_container(settings.project, 'netcat')).splitlines())
    impair.set_(target, impair.Impairment(loss=loss, delay=delay, on='server'))
    server = engine.service_container(settings.project, 'server')
    return (udp, *exchanges(target, server, runs, timeout=10))


def main(target):
    settings = target.settings
    losses = [impair.Impairment.parse('loss=' + word).loss for word in settings.losses]
    delays = [impair.Impairment.parse('delay=' + word).delay for word in settings.delays]
    runs, others = settings.loss_runs, settings.cut_off_others
    # A client whose last packets are lost is gone (its container removed) before it could send them
    # again, and the one-client-at-a-time server waits for it until IDLE_TIMEOUT: measure with a short one.
    short = target.with_settings(idle_timeout='2')
    lab.server(short)
    print('| LOSS | UDP datagrams nc printed (of 200) | TCP exchanges complete (of {}) | TCP median seconds |'.format(runs))
    print('|---|---|---|---|')
    try:
        for loss in losses:
            print('| {}% | {} | {} | {:.1f} |'.format(loss, *row(short, runs, loss)), flush=True)
        if delays:
            print()
            print('| DELAY (outgoing) | LOSS | UDP datagrams nc printed (of 200) | TCP exchanges complete (of {}) | '
                  'TCP median seconds |'.format(runs))
            print('|---|---|---|---|---|')
        for delay in delays:
            for loss in (0, 10):
                print('| {} | {}% | {} | {} | {:.1f} |'.format(delay, loss, *row(short, runs, loss, delay)), flush=True)
        impair.heal(short)  # no loss from here on: the one client cut off is all that is lost
        print()
        print('| server stage | other clients served (of {}) while one client is cut off | their median seconds |'.format(others))
        print('|---|---|---|')
        for stage in ('simple', 'threads'):
            served, seconds = cut_off(target, stage, others)
            print('| {} | {} | {:.1f} |'.format(stage, served, seconds), flush=True)
    finally:
        impair.heal(short)
        lab.server(target)  # the lab's server back as it was
    return 0
