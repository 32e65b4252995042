"""See and break the wire: captures with their ladder diagrams, and impairments, through make, on a lab
of the suite's own. Only certain outcomes are asserted: 100% loss, no loss, TCP delivery under loss
(deterministic: exactly one packet in three dropped), never a rate or a time."""
import html
import os
import re
import shutil

import pytest

from socketlab import browser, catalogue, engine
from socketlab.paths import ROOT
from socketlab.wire import ladder
from makeplay import LESSON, UDP, UDP_REPLY as REPLY, address, captured, finish, make, project_name, run, wait_received

# One lab for this module (its impairments are that lab's state), so one pytest-xdist worker runs it.
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('wire')]
PROJECT = project_name('-wire')
DECLARED = {'NETCAT_IMPAIR': 'rate=1mbit'}
UDP_TIMEOUT_LINE = ('ClientPython: error: no UDP reply from netcat port 12345 within 1 s: UDP does not '
                    'guarantee delivery, so a reply may never arrive')


@pytest.fixture(scope='module')
def declared():
    """The suite's lab, brought up with an impairment declared for nc (as compose.yaml's label can
    declare one): (make lab's output and status, make status's output)."""
    output, status = run(PROJECT, 'lab', env=DECLARED)
    shown, _ = run(PROJECT, 'status', env=DECLARED)
    yield output, status, shown
    run(PROJECT, 'down')


def test_a_declared_impairment_is_applied_by_make_lab(declared):
    output, status, shown = declared
    assert status == 0, output
    assert 'Impairment on server: none' in output and 'Impairment on netcat: rate 1mbit out' in output
    assert shown[-3] == 'server: no impairment'
    assert shown[-2].startswith('netcat: qdisc tbf') and 'rate 1Mbit' in shown[-2]


@pytest.fixture(scope='module')
def results(declared):
    """The same lab, healed; a results folder of this run inside the project (RESULTS must be)."""
    assert run(PROJECT, 'heal')[0] == ['Impairment now: none']
    results = ROOT / 'results' / '.test-{}-wire'.format(os.environ['SOCKET_LAB_RUN'])
    results.mkdir(parents=True)
    yield results
    shutil.rmtree(results)


@pytest.fixture
def healed(results):
    """A test that impairs the lab; healed again after it (make heal's own output is tested by the lab fixture)."""
    yield results
    run(PROJECT, 'heal')


def capture(results, *args, reply=None):
    """make ARGS CAPTURE=1, answered in make nc with REPLY if given: (its output lines, its exit status,
    the packets of the pcap it wrote)."""
    def answer():
        wait_received(PROJECT, 'Hello, world')
        nc = make(PROJECT, 'nc')
        nc.expect_exact('Hello, world')
        nc.send(reply.replace('\n', '\r'))
        nc.send('\x10\x11')
        assert finish(nc) == 0
    output, status, pcap = captured(PROJECT, results, *args, during=answer if reply is not None else None)
    svg = pcap.with_suffix('.svg')
    assert pcap.stat().st_uid == os.getuid() and svg.stat().st_uid == os.getuid()  # the user's files
    assert 'Hello, world' in svg.read_text()
    return output, status, ladder.read_packets(pcap, 12345)


def flags(packet):
    return ','.join(packet['flags'])


def test_tcp_capture_holds_the_whole_exchange_in_order(results):
    output, status, packets = capture(results, 'tcp')
    assert status == 0 and output[:2] == LESSON['client']
    assert "|-- PSH,ACK seq=1 ack=1 len=12 b'Hello, world' " in '\n'.join(output)  # the ladder, printed
    # The handshake.
    assert [(p['to_server'], flags(p)) for p in packets[:3]] == [(True, 'SYN'), (False, 'SYN,ACK'), (True, 'ACK')]
    assert [(p['seq'], p['ack']) for p in packets[:3]] == [(0, None), (0, 1), (1, 1)]
    # The payload both ways: sent, then echoed.
    data = [(p['to_server'], p['payload']) for p in packets if p['payload']]
    assert data == [(True, b'Hello, world'), (False, b'Hello, world')]
    # sock.close(): the client's FIN first, then the server's, each acknowledged, nothing sent again.
    fins = [(i, p) for i, p in enumerate(packets) if 'FIN' in p['flags']]
    assert [p['to_server'] for _, p in fins] == [True, False]
    (client_fin_at, client_fin), (server_fin_at, server_fin) = fins
    assert client_fin_at < server_fin_at and server_fin['ack'] == client_fin['seq'] + 1
    last = packets[-1]
    assert last['to_server'] and flags(last) == 'ACK' and last['ack'] == server_fin['seq'] + 1
    assert not any(p['retransmission'] or 'RST' in p['flags'] for p in packets)
    _, server_ip = address(PROJECT, 'server')
    assert packets[0]['dst'] == (server_ip, 12345)


def test_udp_capture_is_exactly_two_datagrams(results):
    output, status, packets = capture(results, 'udp', reply=REPLY)
    _, nc_ip = address(PROJECT, 'netcat')
    assert status == 0
    assert output[:2] == catalogue.render(UDP['expect']['client'], output[:2], {'netcat_ip': nc_ip})
    assert [(p['proto'], p['to_server'], p['payload']) for p in packets] == [
        ('UDP', True, b'Hello, world'), ('UDP', False, REPLY.encode())]
    assert packets[1]['src'] == (nc_ip, 12345) and packets[1]['dst'] == packets[0]['src']


def test_all_lost_the_udp_client_gives_up_with_the_lessons_warning(healed):
    """The learner's guide's stage: make impair LOSS=100, make udp; no reply can come, the client says why."""
    output, status = run(PROJECT, 'impair', 'LOSS=100')
    assert (output, status) == (['Impairment now: loss 100% both directions on server and netcat (make heal undoes it)'], 0)
    output, status = run(PROJECT, 'udp', 'ARGS=--timeout 1')
    assert output[:2] == ['Starting client...', UDP_TIMEOUT_LINE] and status == 2


def test_tcp_delivers_under_loss_and_the_capture_shows_the_retransmissions(healed):
    output, status = run(PROJECT, 'impair', 'LOSS=30', 'MODE=nth')
    assert output == ['Impairment now: loss 30% both directions (exactly 1 packet in 3) on server and netcat (make heal undoes it)']
    output, status, packets = capture(healed, 'tcp')
    assert status == 0 and output[:2] == LESSON['client']
    assert any(p['retransmission'] for p in packets)  # the first packet in (the SYN) is always dropped
    assert [(p['to_server'], p['payload']) for p in packets if p['payload'] and not p['retransmission']] == [
        (True, b'Hello, world'), (False, b'Hello, world')]


def test_rate_limit_shown_in_make_status(healed):
    assert run(PROJECT, 'impair', 'RATE=500kbit', 'ON=server')[0] == ['Impairment now: rate 500kbit out on server (make heal undoes it)']
    shown, _ = run(PROJECT, 'status')
    assert shown[-3].startswith('server: qdisc tbf') and 'rate 500Kbit' in shown[-3]
    assert shown[-2] == 'netcat: no impairment'


# What make status says of a delay: the user-space queue here (no netem), netem's own qdisc elsewhere.
DELAY_SHOWN = re.compile(r"server: (delay 100ms out by the user-space queue \(NFQUEUE: this kernel has no netem\), "
                         r"\d+ packets held so far|qdisc netem .*delay 100ms.*)")


def handshake_gap(packets):
    """Seconds from the client's SYN to the server's SYN,ACK, as seen in the server's namespace: at least
    the delay when the server's packets are held; less than it when they are not (the kernel answers a
    SYN as it receives it, however busy the machine's programs are)."""
    syn, syn_ack = (next(p for p in packets if flags(p) == f) for f in ('SYN', 'SYN,ACK'))
    return syn_ack['time'] - syn['time']


def test_a_delay_holds_the_servers_packets_and_make_heal_restores_direct_timing(healed):
    output, status = run(PROJECT, 'impair', 'DELAY=100ms', 'ON=server')
    assert (output, status) == (['Impairment now: delay 100ms on server (make heal undoes it)'], 0)
    shown, _ = run(PROJECT, 'status')
    assert DELAY_SHOWN.fullmatch(shown[-3]) and shown[-2] == 'netcat: no impairment', shown
    output, status, packets = capture(healed, 'tcp')
    assert (output[:2], status) == (LESSON['client'], 0)
    assert handshake_gap(packets) >= 0.1  # held at least its delay (never less: the lower bound is certain)
    sent, echoed = (p for p in packets if p['payload'])
    assert echoed['time'] - sent['time'] >= 0.1
    assert run(PROJECT, 'heal') == (['Impairment now: none'], 0)
    assert not queues()
    output, status, packets = capture(healed, 'tcp')
    assert (output[:2], status) == (LESSON['client'], 0) and handshake_gap(packets) < 0.1


def test_duplicates_are_sent_and_the_exchange_still_exact(healed):
    output, status = run(PROJECT, 'impair', 'DELAY=20ms', 'REORDER=50', 'DUPLICATE=100', 'ON=server')
    assert (output, status) == (['Impairment now: delay 20ms, reorder 50, duplicate 100 on server (make heal undoes it)'], 0)
    output, status, packets = capture(healed, 'tcp')
    assert (output[:2], status) == (LESSON['client'], 0)
    from_server = [flags(p) for p in packets if not p['to_server']]
    if queues():  # the user-space queue sends each packet twice: the client's kernel drops the copies
        assert from_server.count('SYN,ACK') == 2 and [p['payload'] for p in packets if p['payload'] and not p['to_server']] == [
            b'Hello, world'] * 2


def test_a_stopped_queue_fails_open_and_says_so(healed):
    if run(PROJECT, 'impair', 'DELAY=100ms', 'ON=server')[1] or not queues():
        pytest.skip('this kernel has netem: no user-space queue to stop')
    for queue in queues():
        queue.kill()
    shown, _ = run(PROJECT, 'status')
    assert shown[-3] == ('server: an NFQUEUE rule without its program: packets pass, neither delayed nor lost (fail-open); '
                         'make heal clears it')
    output, status, packets = capture(healed, 'tcp')
    assert (output[:2], status) == (LESSON['client'], 0) and handshake_gap(packets) < 0.1


def queues():
    return [c for c in engine.containers(PROJECT, all=True, oneoff=True) if c.labels.get(engine.SERVICE_LABEL, '').startswith('queue-')]


@pytest.mark.parametrize('args, message', [
    (['LOSS=abc'], "impair: bad loss 'abc': give a percentage from 0 to 100"),
    (['LOSS=101'], "impair: bad loss '101': give a percentage from 0 to 100"),
    (['LOSS=5', 'DIRECTION=up'], "impair: bad direction 'up': give in, out or both"),
    (['RATE=fast'], "impair: bad rate 'fast': give e.g. 1mbit or 500kbit"),
    ([], 'make impair: say what, e.g. make impair LOSS=30, DELAY=100ms or RATE=1mbit'),
    (['JITTER=20ms'], 'impair: jitter needs a delay, e.g. delay=100ms jitter=20ms'),
    (['DELAY=100ms', 'REORDER=25;x'], "impair: bad reorder '25;x': give a percentage from 0 to 100"),
])
def test_impair_refuses_bad_values_in_one_line(results, args, message):
    output, status = run(PROJECT, 'impair', *args)
    assert output[0] == message and status == 2


def test_an_impairment_asked_before_the_lab_is_up_waits_for_make_lab():
    project = project_name('-not-up')
    output, status = run(project, 'impair', 'LOSS=10')
    assert (output, status) == (['Impairment wanted: loss 10% both directions on server and netcat '
                                 '(the lab is not running: make lab applies it)'], 0)
    assert (ROOT / '.lab' / project / 'impair.json').exists()
    run(project, 'down')  # forgets it, as for a lab that ran
    assert not (ROOT / '.lab' / project).exists()


def test_the_capture_page_shows_the_arrows_in_order_and_a_clicked_packets_fields(results):
    """The offline page make capture writes, opened in headless Chromium (the Debian package make test
    installs): every arrow in the capture's order, and packet 3 (the client's data) clicked through
    the page's own #p3 link shows its fields."""
    path = browser.find()
    if path is None:
        pytest.skip('no chromium here: make test installs it when run as root (apt-get install chromium)')
    before = set(results.glob('*.html'))
    output, status, packets = capture(results, 'tcp')
    page, = set(results.glob('*.html')) - before
    assert status == 0 and any(line.endswith('each packet\'s fields: {}'.format(page.relative_to(ROOT))) for line in output)
    dom = browser.dump_dom(path, page.as_uri() + '#p3')
    groups = re.findall(r'<g id="p(\d+)" class="packet( chosen)?">(.*?)</g>', dom, re.S)
    assert [int(number) for number, _, _ in groups] == list(range(len(packets)))
    labels = [re.findall(r'<text[^>]*>([^<]*)</text>', body)[1] for _, _, body in groups]  # time, packet, call
    assert labels == [html.escape(ladder.label(p), quote=False) for p in packets]
    assert [number for number, chosen, _ in groups if chosen] == ['3']
    shown = dict(re.findall(r'<tr><th>([^<]*)</th><td>([^<]*)</td></tr>', dom))
    assert shown['packet'] == '3' and shown['payload'] == html.escape(repr(b'Hello, world'), quote=False)
    assert shown['flags'] == 'PSH,ACK' and shown['direction'] == 'to the server' and shown['seq (relative)'] == '1'
    assert re.fullmatch(r"client: sendall\(b'Hello, world'\) at \d+\.\d{3} ms; server: recv\(\) = b'Hello, world' at \d+\.\d{3} ms",
                        html.unescape(shown['socket call']))


def called(output, packet_label, side='client'):
    """The socket call of SIDE the printed ladder names beside the packet with this label ('' if none)."""
    line, = [line for line in output if ' {} '.format(packet_label) in line]
    found = re.search(r'(?:<- |; ){}: (.*?) at -?\d+\.\d{{3}} ms(?:;|$)'.format(side), line)
    return found.group(1) if found else ''


def calls_file(output):
    """The strace lines the ladder was named from: the .calls.txt make capture names on its last line."""
    return (ROOT / output[-1].rpartition(': ')[2]).read_text()


def names(output, expected):
    """Each (packet label, side) of EXPECTED with the call the ladder names for it; on a mismatch, the
    ladder and the strace lines it was named from."""
    shown = {key: called(output, *key) for key in expected}
    if shown != expected:
        pytest.fail('\n'.join(['{} {}: {!r}, expected {!r}'.format(*key, shown[key], expected[key]) for key in expected
                               if shown[key] != expected[key]] + output + [calls_file(output)]))
    return shown


def test_the_ladder_names_the_clients_socket_calls(results):
    output, status, _ = capture(results, 'tcp')
    assert status == 0
    names(output, {
        ('SYN seq=0', 'client'): 'connect()', ('SYN,ACK seq=0 ack=1', 'client'): '',
        ("PSH,ACK seq=1 ack=1 len=12 b'Hello, world'", 'client'): "sendall(b'Hello, world')",
        ("PSH,ACK seq=1 ack=13 len=12 b'Hello, world'", 'client'): "recv() = b'Hello, world'",
        ('FIN,ACK seq=13 ack=13', 'client'): 'close()',
        # the server's side, traced by strace attached to it for the exchange
        ('ACK seq=1 ack=1', 'server'): 'accept()',
        ("PSH,ACK seq=1 ack=1 len=12 b'Hello, world'", 'server'): "recv() = b'Hello, world'",
        ("PSH,ACK seq=1 ack=13 len=12 b'Hello, world'", 'server'): "sendall(b'Hello, world')",
        ('FIN,ACK seq=13 ack=13', 'server'): "recv() = b''",
        ('FIN,ACK seq=13 ack=14', 'server'): 'close()'})
    traced = calls_file(output).splitlines()
    client, server = traced.index('# client: the lines of its calls to port 12345 (strace in its container)'), \
        traced.index('# server: all strace printed, attached to it for the exchange')
    assert [line.split()[2].partition('(')[0] for line in traced[client + 1:server - 1]] == ['connect', 'sendto', 'recvfrom', 'close']
    assert any(' accept4(3, ' in line for line in traced[server:])
    output, status, _ = capture(results, 'udp', reply=REPLY)
    names(output, {
        ("UDP len=12 b'Hello, world'", 'client'): "sendto(b'Hello, world')",
        ('UDP len={} {!r}'.format(len(REPLY), REPLY.encode()), 'client'): 'recvfrom() = {!r}'.format(REPLY.encode())})
