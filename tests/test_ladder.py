"""socketlab/wire/ladder.py on captures written here with dpkt (no Docker): reading, retransmissions, completeness,
the terminal diagram and the SVG."""
import socket

import dpkt
import pytest

from socketlab.wire import ladder

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
