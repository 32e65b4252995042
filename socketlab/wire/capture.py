"""Records one exchange: tcpdump in a capture sidecar (compose service capture-SERVICE, NET_RAW) in the
server's or nc's network namespace, then the ladder diagram of what it saw (make capture, CAPTURE=1).

The sidecar runs detached (a terminal resize or Ctrl-C cannot cut it short) under a name of this run's
own, and writes to its own /tmp; the pcap is copied out by this process, so RESULTS/NAME-TIME.pcap
and .svg belong to the user who ran make, never to root.
"""
import sys
import uuid

from .. import engine, health, oneoff
from ..paths import ROOT, result_path, write_atomic
from . import calls, ladder, page


LAST_PACKETS = 10  # seconds: packets already on the wire reach tcpdump in milliseconds


def _results_file(settings, name, suffix):
    """RESULTS/NAME-TIME-ID.SUFFIX: a new name each time, so no run overwrites another's."""
    settings.results.mkdir(parents=True, exist_ok=True)
    return result_path(settings.results, name, suffix)


def _started(target, service_name, peer, *args, ready, what, name_=None):
    """A sidecar of the capture, started and ready; one line (capture: ...) if it cannot be."""
    try:
        return oneoff.started(target, service_name, peer, *args, ready=ready, what=what, name_=name_)
    except RuntimeError as error:
        engine.fail('capture: {}'.format(error))


def _server_calls(tracer):
    """The server's socket calls (strace's lines) until now: strace detaches on SIGINT and exits; its
    lines are read once it has (the engine has then stored all of them)."""
    try:
        tracer.kill(signal='SIGINT')
        tracer.wait(timeout=30)
    except Exception:
        pass  # it stopped already: what it printed is all there is
    return tracer.logs().decode(errors='replace').splitlines()


def around(target, service, name, exchange, interface='eth0'):
    """Runs exchange() with SERVICE's namespace recorded on INTERFACE (lo: a client on the peer's own
    host); prints the ladder; returns exchange()'s status."""
    settings = target.settings
    sidecar = '{}-capture-{}-{}'.format(settings.project, service, uuid.uuid4().hex[:6])
    port = str(settings.server_port)
    peer = engine.service_container(settings.project, service)
    container = _started(target, 'capture-' + service, peer, '-i', interface, 'port ' + port,  # compose.yaml's flags
                         ready=b'listening on', what='tcpdump did not start', name_=sidecar)
    tracer = None
    try:
        if service == 'server':  # the server's calls too: strace attached to it for this exchange
            tracer = _started(target, 'trace-server', peer, ready=b' attached', what='strace did not attach to the server')
        traced = []  # the client's socket calls (strace lines)
        status = exchange(traced)
        served = _server_calls(tracer) if tracer else []

        def pcap():
            return container.exec_run(['cat', '/tmp/capture.pcap']).output
        # The last packets (a TCP close's last ACK, the UDP reply) may still be on their way: waited for
        # far past need on a loaded machine (after a loss, or with no reply, they never come: then it
        # costs LAST_PACKETS seconds).
        try:
            data = health.eventually(lambda: _complete(pcap(), settings.server_port), timeout=LAST_PACKETS)
        except health.NotYet:
            data = pcap()
    finally:
        oneoff.remove(container)
        if tracer is not None:
            oneoff.remove(tracer)
    path = _results_file(settings, name, '.pcap')
    write_atomic(path, data)
    shown = path.relative_to(ROOT)  # RESULTS is inside the project (socketlab.settings)
    print('\nCaptured in {}\'s network namespace: {}'.format(service, shown))
    try:
        packets = ladder.read_packets(path, settings.server_port)
    except Exception as error:  # a capture cut short: say so, keep the exchange's own status
        print('ladder: cannot read {}: {}'.format(shown, error), file=sys.stderr)
        return status
    if packets:
        client_calls = calls.parse(traced, settings.server_port)
        calls.name_packets(packets, client_calls)
        # the server's TCP send: Python's sendall(), or lesson 9's C send() (strace sees sendto() for both)
        sent = 'send' if settings.server == 'c' else 'sendall'
        calls.name_packets(packets, calls.parse(served, settings.server_port, sent), side='server')
        # what the ladder's names were read from, as strace printed it, for a learner to look up
        write_atomic(path.with_suffix('.calls.txt'), '\n'.join(
            ['# client: the lines of its calls to port {} (strace in its container)'.format(port),
             *[call['line'] for call in client_calls], '',
             *(['# server: all strace printed, attached to it for the exchange', *served] if tracer else
               ['# nc: not traced (the client and the lesson\'s server are)'])]).encode() + b'\n')
        side, title = 'nc' if service == 'netcat' else 'server', '{} ({} packets)'.format(path.name, len(packets))
        print(ladder.text_ladder(packets, side))
        write_atomic(path.with_suffix('.svg'), ladder.svg_ladder(packets, side, title).encode())
        decoded = None
        if name == 'records':  # lesson 7's upload or query: its fields, from the bytes each way
            from . import records
            decoded = records.decode(packets)
        write_atomic(path.with_suffix('.html'), page.html_page(packets, side, title, _plaintext(settings) if name == 'tls' else None,
                                                                decoded).encode())
        print('\nLadder diagram written to {} (open it in a browser); each packet\'s fields: {}'.format(
            shown.with_suffix('.svg'), shown.with_suffix('.html')))
        print('The system calls it names, as strace saw them: {}'.format(shown.with_suffix('.calls.txt')))
        if decoded is not None:
            print("Lesson 7's records, field by field (command, count, lengths, big-endian numbers, the float): {}".format(
                shown.with_suffix('.html')))
    return status


def _plaintext(settings):
    """Lesson 3's capture to show beside a TLS one: the newest tcp-*.pcap in RESULTS, as (its packets,
    its title); or (None, what makes one)."""
    made = sorted(settings.results.glob('tcp-*.pcap'), key=lambda path: path.stat().st_mtime)
    for path in reversed(made):
        if path.name.startswith('tcp-nc-'):  # make tcp-nc's: a reply typed into nc, not the lesson's echo
            continue
        try:
            packets = ladder.read_packets(path, settings.server_port)
        except Exception:  # noqa: BLE001 - a capture cut short: the one before it
            continue
        if packets:
            return packets, '{} ({} packets)'.format(path.name, len(packets))
    return None, ("make capture at a plaintext stage (make lab STAGE=simple, then make capture) writes lesson 3's "
                  "capture into the same folder; the next make tls CAPTURE=1 shows it beside this one.")


def _complete(data, port):
    """The pcap bytes once they hold the whole exchange, else None."""
    import io
    try:
        return data if ladder.complete(ladder.read_packets(io.BytesIO(data), port)) else None
    except Exception:
        return None  # the last packet is only partly written yet
