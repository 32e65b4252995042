"""Draws a capture of one lab exchange as a ladder diagram (a sequence chart): the client and the
server (or nc) as two columns, one arrow per packet with its TCP flags, relative sequence and
acknowledgement numbers, payload and time since the first packet. Printed in the terminal and
written as an SVG a browser opens.

    python3 -m socketlab.wire.ladder results/tcp.pcap [--port 12345] [--svg results/tcp.svg]

The pcap is read with dpkt. `read_packets` gives the same packets as data (tests/test_wire.py);
socketlab.wire.capture draws each capture with it.
"""
import argparse
import html
import socket
import sys
from pathlib import Path

import dpkt

FLAG_NAMES = [(dpkt.tcp.TH_SYN, 'SYN'), (dpkt.tcp.TH_FIN, 'FIN'), (dpkt.tcp.TH_RST, 'RST'),
              (dpkt.tcp.TH_PUSH, 'PSH'), (dpkt.tcp.TH_ACK, 'ACK')]
ARROW_WIDTH = 64  # characters between the two columns in the terminal


# read_packets reads the TCP and UDP packets to or from a port in a pcap file
# Arguments: path - the pcap file (or an open binary file), port - the server's (or nc's) port
# Return Value: a list of dicts: time (s since the first packet), proto ('TCP'/'UDP'), src and dst
#               ((ip, port) tuples), to_server (bool), flags (list of names), seq and ack (relative
#               to each side's first sequence number, TCP only), payload (bytes), retransmission (bool)
# Assumptions: the exchange is the first client's (by address and port); Ethernet or Linux cooked link type
def read_packets(path, port):
    packets = []
    with (open(path, 'rb') if isinstance(path, (str, Path)) else path) as f:
        pcap = dpkt.pcap.Reader(f)
        link = pcap.datalink()
        for timestamp, frame in pcap:
            ip = (dpkt.sll.SLL(frame) if link == dpkt.pcap.DLT_LINUX_SLL else dpkt.ethernet.Ethernet(frame)).data
            if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                continue
            segment = ip.data
            if port not in (segment.sport, segment.dport):
                continue
            packets.append({
                'peer': (ip.dst, segment.dport) if segment.sport == port else (ip.src, segment.sport),
                'timestamp': timestamp, 'proto': 'TCP' if isinstance(segment, dpkt.tcp.TCP) else 'UDP',
                'src': (socket.inet_ntoa(ip.src), segment.sport), 'dst': (socket.inet_ntoa(ip.dst), segment.dport),
                'to_server': segment.dport == port, 'payload': bytes(segment.data),
                'flags': [name for bit, name in FLAG_NAMES if getattr(segment, 'flags', 0) & bit],
                'raw_seq': getattr(segment, 'seq', None), 'raw_ack': getattr(segment, 'ack', None),
            })
    # One exchange: the client that opens a connection (or else the first one seen); an earlier
    # connection's late packets are left out.
    opening = [p['peer'] for p in packets if p['to_server'] and p['flags'] == ['SYN']]
    peer = opening[0] if opening else (packets[0]['peer'] if packets else None)
    return relative([p for p in packets if p.pop('peer') == peer])


# relative turns absolute times and sequence numbers into ones relative to the exchange's start
# Arguments: packets - as read_packets builds them, with timestamp, raw_seq and raw_ack
# Return Value: the same packets with time, seq, ack and retransmission filled in
# Assumptions: each side's first packet carries its initial sequence number (or the capture began later)
def relative(packets):
    start = packets[0]['timestamp'] if packets else 0
    first_seq, seen = {}, set()
    for packet in packets:
        packet['at'] = packet.pop('timestamp')  # the host's clock: socketlab.wire.calls shows the calls' times against it
        packet['time'] = packet['at'] - start
        raw_seq, raw_ack = packet.pop('raw_seq'), packet.pop('raw_ack')
        packet['seq'] = packet['ack'] = None
        packet['retransmission'] = False
        if packet['proto'] != 'TCP':
            continue
        side, other = packet['to_server'], not packet['to_server']
        first_seq.setdefault(side, raw_seq)
        packet['seq'] = (raw_seq - first_seq[side]) % 2 ** 32
        if 'ACK' in packet['flags'] and other in first_seq:
            packet['ack'] = (raw_ack - first_seq[other]) % 2 ** 32
        # A segment that takes sequence space (data, SYN or FIN) a second time is sent again.
        if packet['payload'] or {'SYN', 'FIN'} & set(packet['flags']):
            key = (side, packet['seq'], len(packet['payload']), tuple(packet['flags']))
            packet['retransmission'] = key in seen
            seen.add(key)
    return packets


# complete tells whether a capture holds the whole exchange
# Arguments: packets - read_packets' list
# Return Value: True once a UDP datagram has had a reply, or a TCP exchange's FINs are both
#               acknowledged (or a RST ended it)
# Assumptions: one exchange per capture
def complete(packets):
    if not packets:
        return False
    if all(packet['proto'] == 'UDP' for packet in packets):  # a datagram and its reply
        return {True, False} <= {packet['to_server'] for packet in packets}
    if any('RST' in packet['flags'] for packet in packets):
        return True
    for side in (True, False):
        fins = [p for p in packets if p['to_server'] == side and 'FIN' in p['flags']]
        if not fins:
            return False
        end = (fins[0]['seq'] + len(fins[0]['payload']) + 1) % 2 ** 32
        if not any(p['to_server'] != side and p['ack'] == end for p in packets):
            return False
    return True


# TLS's record types (lesson 7), by their first byte: how the ladder names a TLS payload
TLS_RECORDS = {20: 'ChangeCipherSpec', 21: 'Alert', 22: 'Handshake', 23: 'ApplicationData'}


# tls_records names the TLS records a TCP payload holds (lesson 7: encrypted, so nothing is readable)
# Arguments: payload - one segment's bytes
# Return Value: e.g. "TLS ClientHello" or "TLS ServerHello, ChangeCipherSpec, ApplicationData x4";
#               None when the payload does not start like a TLS record (plaintext, lesson 7's binary records)
# Assumptions: a record may go on in the next segment: that is said, not parsed
def tls_records(payload):
    if len(payload) < 5 or payload[0] not in TLS_RECORDS or payload[1] != 3 or payload[2] > 4:
        return None
    import dpkt.ssl
    try:
        records, used = dpkt.ssl.tls_multi_factory(payload)
    except dpkt.ssl.SSL3Exception:
        return None
    names = []
    for record in records:
        name = TLS_RECORDS.get(record.type, str(record.type))
        if record.type == 22 and record.data:  # a handshake in the clear: its message's name
            name = dpkt.ssl.HANDSHAKE_TYPES.get(record.data[0], (name,))[0]
        if names and names[-1][0] == name:
            names[-1][1] += 1
        else:
            names.append([name, 1])
    shown = ', '.join(name + (' x{}'.format(count) if count > 1 else '') for name, count in names)
    return 'TLS ' + (shown + (' ...' if used < len(payload) else '') if names else '(a record begun)')


# label says what one packet is, in a few words
# Arguments: packet - one of read_packets' dicts
# Return Value: e.g. "SYN seq=0", "PSH,ACK seq=1 ack=1 len=12 b'Hello, world'"
# Assumptions: none
def label(packet):
    if packet['proto'] == 'UDP':
        words = ['UDP len={}'.format(len(packet['payload']))]
    else:
        words = [','.join(packet['flags']) or '(no flags)', 'seq={}'.format(packet['seq'])]
        if packet['ack'] is not None:
            words.append('ack={}'.format(packet['ack']))
        if packet['payload']:
            words.append('len={}'.format(len(packet['payload'])))
    if packet['payload']:
        shown = tls_records(packet['payload']) if packet['proto'] == 'TCP' else None
        if shown is None:
            shown = repr(packet['payload'][:32]) + ('...' if len(packet['payload']) > 32 else '')
        words.append(shown)
    if packet['retransmission']:
        words.append('[retransmission]')
    return ' '.join(words)


# endpoints names the two columns
# Arguments: packets - read_packets' list, server_name - what to call the side on the port
# Return Value: (client column title, server column title)
# Assumptions: packets is not empty
def endpoints(packets, server_name):
    first = packets[0]
    client, server = (first['src'], first['dst']) if first['to_server'] else (first['dst'], first['src'])
    return 'client {}:{}'.format(*client), '{} {}:{}'.format(server_name, *server)


# text_ladder draws the packets for a terminal
# Arguments: packets - read_packets' list, server_name - the right column's name
# Return Value: the diagram as a string, one line per packet
# Assumptions: packets is not empty
def text_ladder(packets, server_name):
    left, right = endpoints(packets, server_name)
    lines = ['{:>10}  {:<{w}}{}'.format('time (ms)', left, right, w=ARROW_WIDTH + 2)]
    for packet in packets:
        text = ' {} '.format(label(packet))
        width = max(ARROW_WIDTH, len(text) + 6)
        if packet['to_server']:
            arrow = '--' + text + '-' * (width - len(text) - 3) + '>'
        else:
            arrow = '<' + '-' * (width - len(text) - 3) + text + '--'
        call = '   <- ' + packet['call'] if packet.get('call') else ''
        lines.append('{:>10.3f}  |{}|{}'.format(packet['time'] * 1000, arrow, call))
    return '\n'.join(lines)


# svg_ladder draws the packets as an SVG picture
# Arguments: packets - read_packets' list, server_name - the right column's name, title - a caption,
#            ids - what each packet's group id starts with (p0, p1, ...; another for a second ladder on one page)
# Return Value: the SVG document as a string
# Assumptions: packets is not empty
def svg_ladder(packets, server_name, title, ids='p'):
    left, right = endpoints(packets, server_name)
    x1, x2, top, step = 200, 760, 90, 44
    height = top + step * len(packets) + 40
    width = 1280 if any(p.get('call') for p in packets) else 960
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-family="monospace" font-size="13">'.format(width, height),
        '<defs><marker id="head" markerWidth="10" markerHeight="8" refX="10" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="20" y="24" font-size="15" font-weight="bold">{}</text>'.format(html.escape(title)),
        '<text x="{}" y="60" text-anchor="middle" font-weight="bold">{}</text>'.format(x1, html.escape(left)),
        '<text x="{}" y="60" text-anchor="middle" font-weight="bold">{}</text>'.format(x2, html.escape(right)),
        '<text x="20" y="60" fill="#666">time (ms)</text>',
        '<line x1="{0}" y1="70" x2="{0}" y2="{1}" stroke="#999" stroke-width="2"/>'.format(x1, height - 20),
        '<line x1="{0}" y1="70" x2="{0}" y2="{1}" stroke="#999" stroke-width="2"/>'.format(x2, height - 20),
    ]
    for i, packet in enumerate(packets):
        y = top + step * i
        start, end = (x1, x2) if packet['to_server'] else (x2, x1)
        colour = '#c00' if packet['retransmission'] or 'RST' in packet['flags'] else ('#06c' if packet['payload'] else '#333')
        # one group per packet (id p0, p1, ...): the HTML page (socketlab.wire.page) makes each clickable
        out.append('<g id="{}{}" class="packet">'.format(ids, i))
        out.append('<text x="20" y="{}" fill="#666">{:.3f}</text>'.format(y + 14, packet['time'] * 1000))
        out.append('<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1.5" marker-end="url(#head)"/>'.format(
            start, y + 10, end, y + 24, colour))
        out.append('<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>'.format(
            (x1 + x2) // 2, y + 8, colour, html.escape(label(packet))))
        if packet.get('call'):  # the socket call behind it (socketlab.wire.calls), beside the arrow
            out.append('<text x="{}" y="{}" fill="#870">{}</text>'.format(x2 + 12, y + 20, html.escape(packet['call'])))
        out.append('</g>')
    out.append('</svg>')
    return '\n'.join(out) + '\n'


# parse_command_line_arguments reads the tool's flags
# Arguments: args - the command line arguments, without the program name
# Return Value: the parsed flags (pcap, port, server_name, svg)
# Assumptions: none; bad flags end the program with one line on stderr and exit code 2
def parse_command_line_arguments(args):
    parser = argparse.ArgumentParser(prog='ladder', description=__doc__.split('\n\n')[0])
    parser.add_argument('pcap', type=Path)
    parser.add_argument('--port', type=int, default=12345, help="the server's (or nc's) port (default 12345)")
    parser.add_argument('--server-name', default='server', help='what to call that side (default server)')
    parser.add_argument('--svg', type=Path, help='also write the diagram here as SVG')
    parser.add_argument('--check-complete', action='store_true',
                        help='only tell (exit 0 or 1) whether the capture holds the whole exchange yet')
    return parser.parse_args(args)


if __name__ == '__main__':
    flags = parse_command_line_arguments(sys.argv[1:])
    if flags.check_complete:
        try:
            sys.exit(0 if complete(read_packets(flags.pcap, flags.port)) else 1)
        except (OSError, ValueError, dpkt.dpkt.Error):
            sys.exit(1)  # the last packet is only partly written yet
    try:
        packets = read_packets(flags.pcap, flags.port)
    except (OSError, ValueError, dpkt.dpkt.Error) as error:
        sys.exit('ladder: error: cannot read {}: {}'.format(flags.pcap, error))
    if not packets:
        sys.exit('ladder: error: no packet to or from port {} in {}'.format(flags.port, flags.pcap))
    print(text_ladder(packets, flags.server_name))
    if flags.svg:
        flags.svg.write_text(svg_ladder(packets, flags.server_name, '{} ({} packets)'.format(flags.pcap.name, len(packets))))
        print('\nLadder diagram written to {} (open it in a browser)'.format(flags.svg))
