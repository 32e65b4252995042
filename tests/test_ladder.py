"""socketlab/wire/ladder.py on captures written here with dpkt (no Docker): reading, retransmissions, completeness,
the terminal diagram and the SVG."""
import socket

import dpkt
import pytest

from socketlab.wire import calls, ladder

CLIENT, SERVER = ('10.0.0.2', 40000), ('10.0.0.3', 12345)
S, A, P, F, R = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST
ISN_C, ISN_S = 1000, 5000


def frame(src, dst, segment):
    ip = dpkt.ip.IP(src=socket.inet_aton(src[0]), dst=socket.inet_aton(dst[0]), p=(
        dpkt.ip.IP_PROTO_TCP if isinstance(segment, dpkt.tcp.TCP) else dpkt.ip.IP_PROTO_UDP), data=segment)
    return bytes(dpkt.ethernet.Ethernet(src=b'\x02' * 6, dst=b'\x04' * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def tcp(to_server, flags, seq, ack=0, data=b''):
    src, dst = (CLIENT, SERVER) if to_server else (SERVER, CLIENT)
    return frame(src, dst, dpkt.tcp.TCP(sport=src[1], dport=dst[1], flags=flags, seq=seq, ack=ack, data=data))


def udp(to_server, data):
    src, dst = (CLIENT, SERVER) if to_server else (SERVER, CLIENT)
    return frame(src, dst, dpkt.udp.UDP(sport=src[1], dport=dst[1], data=data, ulen=8 + len(data)))


def write(path, frames):
    with open(path, 'wb') as f:
        writer = dpkt.pcap.Writer(f)
        for i, data in enumerate(frames):
            writer.writepkt(data, ts=100.0 + i * 0.001)
    return path


# The lesson's exchange: handshake, 'Hello, world' and its echo, the client's close, the server's.
LESSON = [
    tcp(True, S, ISN_C), tcp(False, S | A, ISN_S, ISN_C + 1), tcp(True, A, ISN_C + 1, ISN_S + 1),
    tcp(True, P | A, ISN_C + 1, ISN_S + 1, b'Hello, world'), tcp(False, A, ISN_S + 1, ISN_C + 13),
    tcp(False, P | A, ISN_S + 1, ISN_C + 13, b'Hello, world'), tcp(True, A, ISN_C + 13, ISN_S + 13),
    tcp(True, F | A, ISN_C + 13, ISN_S + 13), tcp(False, F | A, ISN_S + 13, ISN_C + 14),
    tcp(True, A, ISN_C + 14, ISN_S + 14),
]


def test_read_packets_gives_relative_numbers_and_directions(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    assert [(p['to_server'], ','.join(p['flags']), p['seq'], p['ack']) for p in packets[:3]] == [
        (True, 'SYN', 0, None), (False, 'SYN,ACK', 0, 1), (True, 'ACK', 1, 1)]
    assert packets[0]['src'] == CLIENT and packets[0]['time'] == 0
    assert packets[-1]['time'] == pytest.approx(0.009)
    assert not any(p['retransmission'] for p in packets)
    assert ladder.complete(packets)


def test_a_segment_sent_twice_is_a_retransmission(tmp_path):
    frames = LESSON[:4] + [LESSON[3]] + LESSON[4:]
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', frames), 12345)
    assert [p['retransmission'] for p in packets].count(True) == 1 and packets[4]['retransmission']
    assert ladder.label(packets[4]) == "PSH,ACK seq=1 ack=1 len=12 b'Hello, world' [retransmission]"


@pytest.mark.parametrize('cut', [7, 8, 9])
def test_a_close_not_yet_acknowledged_is_incomplete(tmp_path, cut):
    assert not ladder.complete(ladder.read_packets(write(tmp_path / 'c.pcap', LESSON[:cut]), 12345))


def test_a_reset_ends_the_exchange(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON[:4] + [tcp(True, R, ISN_C + 13)]), 12345)
    assert ladder.complete(packets)


def test_udp_is_complete_once_the_reply_is_there(tmp_path):
    one = ladder.read_packets(write(tmp_path / 'u1.pcap', [udp(True, b'Hello, world')]), 12345)
    two = ladder.read_packets(write(tmp_path / 'u2.pcap', [udp(True, b'Hello, world'), udp(False, b'hi\n')]), 12345)
    assert not ladder.complete(one) and ladder.complete(two)
    assert ladder.label(two[1]) == "UDP len=3 b'hi\\n'"


def test_packets_of_other_ports_are_left_out(tmp_path):
    other = frame(('10.0.0.2', 5353), ('10.0.0.9', 53), dpkt.udp.UDP(sport=5353, dport=53, data=b'q', ulen=9))
    assert len(ladder.read_packets(write(tmp_path / 'c.pcap', [other] + LESSON), 12345)) == len(LESSON)


def test_text_ladder_draws_one_arrow_per_packet(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    lines = ladder.text_ladder(packets, 'server').split('\n')
    assert lines[0].split() == ['time', '(ms)', 'client', '10.0.0.2:40000', 'server', '10.0.0.3:12345']
    assert lines[1] == '     0.000  |-- SYN seq=0 ' + '-' * 50 + '>|'
    assert lines[2].startswith('     1.000  |<') and lines[2].endswith(' SYN,ACK seq=0 ack=1 --|')
    assert len(lines) == 1 + len(LESSON) and len({len(line) for line in lines[1:]}) == 1


def test_svg_has_an_arrow_and_a_label_per_packet(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    svg = ladder.svg_ladder(packets, 'server', 'the <lesson>')
    assert svg.startswith('<svg') and svg.rstrip().endswith('</svg>')
    assert svg.count('marker-end="url(#head)"') == len(LESSON)
    assert "b&#x27;Hello, world&#x27;" in svg and 'the &lt;lesson&gt;' in svg


def test_an_earlier_connections_late_packets_are_left_out(tmp_path):
    """Under loss, the server may still send to a client that has gone; the ladder is the first client's."""
    late = frame(SERVER, ('10.0.0.2', 39999), dpkt.tcp.TCP(sport=12345, dport=39999, flags=P | A, seq=9, ack=9, data=b'x'))
    for frames in (LESSON[:3] + [late] + LESSON[3:], [late] + LESSON):
        packets = ladder.read_packets(write(tmp_path / 'c.pcap', frames), 12345)
        assert len(packets) == len(LESSON) and ladder.complete(packets) and packets[0]['src'] == CLIENT


# What strace shows of the lesson's client (socketlab/wire/outlive.py traces it when make captures):
# the name lookup's own socket first (to the resolver's port 53), then the lesson's calls. Times are
# the host's clock, as the pcap's (written above at 100.000, 100.001, ... s).
TRACE = '''\
7     99.9990 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 3
7     99.9991 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.11")}, 16) = 0
7     99.9992 sendto(3, "\\316\\207\\1\\0", 4, MSG_NOSIGNAL, NULL, 0) = 4
7     99.9993 close(3)                  = 0
7     99.9998 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3
7     99.9999 connect(3, {sa_family=AF_INET, sin_port=htons(12345), sin_addr=inet_addr("10.0.0.3")}, 16) = -1 EINPROGRESS (Operation now in progress)
7     100.0029 sendto(3, "Hello, world", 12, 0, NULL, 0) = 12
7     100.0052 recvfrom(3, "Hello, world", 1024, 0, NULL, NULL) = 12
7     100.0069 close(3)                 = 0
'''.splitlines()


def test_each_packet_is_named_by_the_client_call_that_sent_or_read_it(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    calls.name_packets(packets, calls.parse(TRACE, 12345))
    assert [p['call'] for p in packets] == [
        'client: connect() at -0.100 ms', '', '',
        "client: sendall(b'Hello, world') at 2.900 ms", '',
        "client: recv() = b'Hello, world' at 5.200 ms", '',
        'client: close() at 6.900 ms', '', '']
    text = ladder.text_ladder(packets, 'server').splitlines()
    assert text[1].endswith('|   <- client: connect() at -0.100 ms') and text[2].endswith('--|')
    assert "client: sendall(b&#x27;Hello, world&#x27;) at 2.900 ms</text>" in ladder.svg_ladder(packets, 'server', 'c')


def test_a_retransmission_is_named_the_kernels_and_two_sends_each_their_own():
    lines = TRACE[4:6] + ['7     100.0029 sendto(3, "Hello, ", 7, 0, NULL, 0) = 7',
                          '7     100.0031 sendto(3, "world", 5, 0, NULL, 0) = 5']
    packets = [
        {'to_server': True, 'flags': ['SYN'], 'payload': b'', 'retransmission': False, 'at': 100.0},
        {'to_server': True, 'flags': ['PSH', 'ACK'], 'payload': b'Hello, ', 'retransmission': False, 'at': 100.003},
        {'to_server': True, 'flags': ['PSH', 'ACK'], 'payload': b'Hello, ', 'retransmission': True, 'at': 100.2},
        {'to_server': True, 'flags': ['PSH', 'ACK'], 'payload': b'world', 'retransmission': False, 'at': 100.201},
    ]
    calls.name_packets(packets, calls.parse(lines, 12345))
    assert [p['call'] for p in packets] == [
        'client: connect() at -0.100 ms', "client: sendall(b'Hello, ') at 2.900 ms",
        'kernel: sent again (retransmission)', "client: sendall(b'world') at 3.100 ms"]


# What strace attached to the lesson's server shows of the same exchange (-T: the time in each call).
SERVER_TRACE = '''\
strace: Process 7 attached
99.9000 accept4(3, {sa_family=AF_INET, sin_port=htons(40000), sin_addr=inet_addr("10.0.0.2")}, [16], SOCK_CLOEXEC) = 4 <0.102000>
100.0020 getsockname(4, {sa_family=AF_INET, sin_port=htons(12345)}, [128 => 16]) = 0 <0.000012>
100.0030 recvfrom(4, "Hello, world", 1024, 0, NULL, NULL) = 12 <0.000300>
100.0049 sendto(4, "Hello, world", 12, 0, NULL, 0) = 12 <0.000100>
100.0060 recvfrom(4, "", 1024, 0, NULL, NULL) = 0 <0.001100>
100.0079 close(4)              = 0 <0.000134>
'''.splitlines()


def test_the_servers_calls_are_named_beside_the_clients(tmp_path):
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    calls.name_packets(packets, calls.parse(TRACE, 12345))
    calls.name_packets(packets, calls.parse(SERVER_TRACE, 12345), side='server')
    assert [p['call'] for p in packets] == [
        'client: connect() at -0.100 ms', '', 'server: accept() at 2.000 ms',
        "client: sendall(b'Hello, world') at 2.900 ms; server: recv() = b'Hello, world' at 3.300 ms", '',
        "client: recv() = b'Hello, world' at 5.200 ms; server: sendall(b'Hello, world') at 4.900 ms", '',
        "client: close() at 6.900 ms; server: recv() = b'' at 7.100 ms", 'server: close() at 7.900 ms', '']


def test_a_udp_exchange_names_sendto_and_recvfrom(tmp_path):
    lines = ['7     99.9995 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 3',
             '7     99.9999 sendto(3, "Hello, world", 12, 0, {sa_family=AF_INET, sin_port=htons(12345), '
             'sin_addr=inet_addr("10.0.0.3")}, 16) = 12',
             '7     100.0012 recvfrom(3, "Hi\\n", 1024, 0, {sa_family=AF_INET, sin_port=htons(12345)}, [16]) = 3']
    packets = ladder.read_packets(write(tmp_path / 'u.pcap', [udp(True, b'Hello, world'), udp(False, b'Hi\n')]), 12345)
    calls.name_packets(packets, calls.parse(lines, 12345))
    assert [p['call'] for p in packets] == ["client: sendto(b'Hello, world') at -0.100 ms",
                                           "client: recvfrom() = b'Hi\\n' at 1.200 ms"]


def test_accept_names_the_packet_that_completed_its_clients_handshake_whatever_the_clocks_say(tmp_path):
    """accept() returns the connection whose handshake completed: the first packet after the SYN from
    the client it names (strace's address), even where strace's clock puts the return before that
    packet's capture, or the handshake's ACK was lost and the client's data completed it. Another
    client's accept() names nothing of this connection."""
    other = '99.9500 accept4(3, {sa_family=AF_INET, sin_port=htons(39999), sin_addr=inet_addr("10.0.0.2")}, [16], SOCK_CLOEXEC) = 5 <0.000100>'
    early = [SERVER_TRACE[1].replace('<0.102000>', '<0.099000>'),  # returned at 99.999, its ACK came at 100.002
             SERVER_TRACE[3].replace('100.0030', '100.0017')]  # recv() "returned" at 100.002, its packet came at 100.003
    packets = ladder.read_packets(write(tmp_path / 'c.pcap', LESSON), 12345)
    calls.name_packets(packets, calls.parse([other] + early, 12345), side='server')
    assert [p['call'] for p in packets][:4] == ['', '', 'server: accept() at -1.000 ms', "server: recv() = b'Hello, world' at 2.000 ms"]
    lost_ack = LESSON[:2] + LESSON[3:]
    packets = ladder.read_packets(write(tmp_path / 'l.pcap', lost_ack), 12345)
    calls.name_packets(packets, calls.parse(SERVER_TRACE[:4], 12345), side='server')
    assert [p['call'] for p in packets][:3] == ['', '', "server: accept() at 2.000 ms; server: recv() = b'Hello, world' at 3.300 ms"]


def test_a_call_another_thread_interrupted_in_straces_output_is_named_whole():
    """A threaded server's strace output splits a call that another thread's line interrupts
    (<unfinished ...> ... <... resumed>): it is read as the one call it was, at its entry's time."""
    whole = ['[pid    12] ' + line for line in SERVER_TRACE[1:]]
    split = whole[:2] + [
        '[pid    12] 100.0030 recvfrom(4,  <unfinished ...>',
        '[pid    13] 100.0031 accept4(3,  <unfinished ...>',
        '[pid    12] 100.0033 <... recvfrom resumed>"Hello, world", 1024, 0, NULL, NULL) = 12 <0.000300>',
        '[pid    12] 100.0049 sendto(4, "Hello, world", 12, 0, NULL, 0 <unfinished ...>',
        '[pid    12] 100.0050 <... sendto resumed>) = 12 <0.000100>'] + whole[4:]
    assert calls.parse(split, 12345) == calls.parse(whole, 12345)
    assert [call['call'] for call in calls.parse(split, 12345)] == [
        'accept()', "recv() = b'Hello, world'", "sendall(b'Hello, world')", "recv() = b''", 'close()']
