"""make loss-table: what make impair's random loss does on this machine, for the README's table.
    UDP: 200 datagrams from a client to nc with LOSS% dropped on the way in; how many nc printed.
    TCP: the lesson's exchange, RUNS times with LOSS% dropped both ways at the server; how many printed
         "Received: b'Hello, world'" (client timeout 10 s), and the median time of a run (container
         start included).
Bounded: 200 datagrams and RUNS exchanges per loss value, each with the client's timeout. Env: LOSSES
(default "0 10 30 50"), RUNS (default 10)."""
import os
import statistics
import time

from .. import engine, lab, netcat, oneoff
from ..settings import Settings, SettingError, port
from ..wire import impair

SEND = '''import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    sock.sendto(b"%d\\n" % i, ("netcat", int(sys.argv[1])))
    time.sleep(0.002)'''


def main(settings, compose):
    losses = [impair.Impairment.parse('loss=' + word).loss for word in os.environ.get('LOSSES', '0 10 30 50').split()]
    runs = port('RUNS', os.environ.get('RUNS', '10'))
    if runs > 100:
        raise SettingError("bad RUNS '{}': give a number from 1 to 100".format(runs))
    # A client whose last packets are lost is gone (its container removed) before it could send them
    # again, and the one-client-at-a-time server waits for it until IDLE_TIMEOUT: measure with a short one.
    short = Settings(**{**settings.__dict__, 'idle_timeout': '2'})
    lab.server(short, compose)
    print('| LOSS | UDP datagrams nc printed (of 200) | TCP exchanges complete (of {}) | TCP median seconds |'.format(runs))
    print('|---|---|---|---|')
    try:
        for loss in losses:
            impair.set_(short, compose, impair.Impairment(loss=loss, direction='in', on='netcat'))
            listener = netcat.fresh(short, compose)
            oneoff.run(short, compose, 'client', listener, '-c', SEND, str(short.server_port), entrypoint=['python3'], capture=True)
            udp = len(netcat.received(engine.service_container(short.project, 'netcat')).splitlines())
            impair.set_(short, compose, impair.Impairment(loss=loss, on='server'))
            server = engine.service_container(short.project, 'server')
            ok, times = 0, []
            for _ in range(runs):
                start = time.monotonic()
                _, out = oneoff.run(short, compose, 'client', server, '--timeout', '10', capture=True)
                times.append(time.monotonic() - start)
                ok += "Received: b'Hello, world'" in out
            print('| {}% | {} | {} | {:.1f} |'.format(loss, udp, ok, statistics.median(times)), flush=True)
    finally:
        impair.heal(short, compose)
        lab.server(settings, compose)  # the lab's server back as it was
    return 0
