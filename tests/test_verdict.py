"""Host-side: the wire's line for a failed stage (socketlab.wire.verdict), one table of exchanges as
read_packets gives them and what make check says of each."""
import pytest

from socketlab.wire import verdict


def tcp(to_server, flags, payload=b'', retransmission=False):
    return {'proto': 'TCP', 'to_server': to_server, 'flags': flags, 'payload': payload, 'retransmission': retransmission}


OPEN = [tcp(True, ['SYN']), tcp(False, ['SYN', 'ACK']), tcp(True, ['ACK'])]
HELLO = [tcp(True, ['PSH', 'ACK'], b'Hello\n'), tcp(False, ['ACK'])]
CLIENT_CLOSES = [tcp(True, ['FIN', 'ACK']), tcp(False, ['ACK'])]
SERVER_CLOSES = [tcp(False, ['FIN', 'ACK']), tcp(True, ['ACK'])]

TABLE = [
    # (what happened, packets, judged, the line)
    ('an echo as the lesson\'s', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\n')] + CLIENT_CLOSES + SERVER_CLOSES,
     'server', ''),
    ('the same, for its client', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\n')] + CLIENT_CLOSES + SERVER_CLOSES,
     'client', ''),
    ('the echo\'s last byte dropped', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello')] + CLIENT_CLOSES + SERVER_CLOSES,
     'server', 'the wire: your server sent back 5 of the 6 bytes it received'),
    ('a segment sent again counts once', OPEN + HELLO + [tcp(True, ['PSH', 'ACK'], b'Hello\n', retransmission=True),
                                                          tcp(False, ['PSH', 'ACK'], b'Hello\n')] + CLIENT_CLOSES + SERVER_CLOSES,
     'server', ''),
    ('more sent than received', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\nHello\n')] + CLIENT_CLOSES + SERVER_CLOSES,
     'server', 'the wire: your server sent 12 bytes for the 6 it received'),
    ('the server never closes', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\n')] + CLIENT_CLOSES,
     'server', 'the wire: your server never closed the connection after the client did: no FIN'),
    ('nothing reached the server', [], 'server', 'the wire: no client reached your server on the wire'),
    ('a client that sends a str: it connected and sent nothing', OPEN + CLIENT_CLOSES + SERVER_CLOSES,
     'client', 'the wire: your client sent no data'),
    ('a client that never closes', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\n')],
     'client', 'the wire: your client never closed: no FIN'),
    ('a reset is a close', OPEN + HELLO + [tcp(False, ['PSH', 'ACK'], b'Hello\n'), tcp(True, ['RST'])], 'client', ''),
    ('no client at all', [], 'client', 'the wire: your client opened no connection and sent nothing'),
]


@pytest.mark.parametrize('packets, judged, line', [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_the_wire_says_what_differs_from_the_lessons_exchange(packets, judged, line):
    assert verdict.said(packets, judged) == line
