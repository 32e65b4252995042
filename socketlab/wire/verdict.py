"""What the wire showed of one exchange, in the one line a learner needs when a stage failed (make
check): read from the packets of its capture (socketlab.wire.ladder.read_packets), never from the
learner's source.

    said(packets, judged)   judged: 'server' or 'client', whose program the line speaks of
"""


def facts(packets):
    """The exchange's counts: data bytes each way (each byte once: a segment sent again is not counted
    twice), whether a connection was opened, whether each side sent its FIN, datagrams each way."""
    first = [p for p in packets if not p['retransmission']]
    tcp = [p for p in first if p['proto'] == 'TCP']
    udp = [p for p in first if p['proto'] == 'UDP']
    return {
        'connected': any(p['flags'] == ['SYN'] for p in tcp) and any(set(p['flags']) == {'SYN', 'ACK'} for p in tcp),
        'to_server': sum(len(p['payload']) for p in tcp if p['to_server']),
        'to_client': sum(len(p['payload']) for p in tcp if not p['to_server']),
        'client_fin': any('FIN' in p['flags'] for p in tcp if p['to_server']),
        'server_fin': any('FIN' in p['flags'] for p in tcp if not p['to_server']),
        'reset': any('RST' in p['flags'] for p in tcp),
        'datagrams_to_server': sum(1 for p in udp if p['to_server']),
        'datagrams_to_client': sum(1 for p in udp if not p['to_server']),
    }


# (judged, test on the facts, the line): the first that holds is said. An echo's rule: what was
# received is sent back, byte for byte; a client sends, then closes.
RULES = [
    ('server', lambda f: not f['connected'] and not f['datagrams_to_server'], 'no client reached your server on the wire'),
    ('client', lambda f: not f['connected'] and not f['datagrams_to_server'], 'your client opened no connection and sent nothing'),
    ('server', lambda f: f['to_client'] < f['to_server'],
     'your server sent back {to_client} of the {to_server} bytes it received'),
    ('server', lambda f: f['to_client'] > f['to_server'],
     'your server sent {to_client} bytes for the {to_server} it received'),
    ('client', lambda f: f['connected'] and not f['to_server'], 'your client sent no data'),
    ('client', lambda f: f['connected'] and not f['client_fin'] and not f['reset'], 'your client never closed: no FIN'),
    ('server', lambda f: f['client_fin'] and not f['server_fin'] and not f['reset'],
     'your server never closed the connection after the client did: no FIN'),
]


def said(packets, judged):
    """'the wire: ...' for the first rule of JUDGED's that the packets meet, or '' (the wire looks as
    the lesson's does: the difference is in what a program printed)."""
    found = facts(packets)
    for who, test, line in RULES:
        if who == judged and test(found):
            return 'the wire: ' + line.format(**found)
    return ''
