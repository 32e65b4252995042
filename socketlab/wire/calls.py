"""Names the socket call behind each packet of a capture: the programs' system calls as strace shows
them, matched to the packets. The client's are traced inside its own container
(socketlab/wire/outlive.py runs the program under it when make captures; a process may trace its own
child with no added capability), the server's by strace attached to it from the trace-server sidecar.

    connect()                    the SYN it sends (the SYN,ACK and ACK are the kernel's answer to it)
    accept()                     the server's: the packet that completed the handshake of the client
                                 it returns (by that client's address, not by time)
    sendall(b'Hello, world')     the next packet from its side that carries those bytes (Python's
                                 sendall() is one or more send()s: strace shows sendto())
    recv(1024)                   returns once the packet it reads has arrived (shown beside that packet)
    close()                      the FIN it sends
    sendto() / recvfrom()        a UDP datagram sent / read

A packet sent again is the kernel's retransmission, never a call's. Calls and packets are matched by
what they carry and their order, not by time: strace's clock and the capture's disagree by up to a
millisecond. Both times are shown relative to the first packet.
"""
import re

# 1700000000.123456 connect(3, {sa_family=AF_INET, ...}, 16) = -1 EINPROGRESS (...)
LINE = re.compile(r'^(?:\[pid\s+\d+\]\s*|\d+\s+)?(\d+\.\d+) (\w+)\((.*)\) += (-?\d+)(?:.*<(\d+\.\d+)>)?.*$')
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
# [pid 12] 1700000000.123456 recvfrom(4,  <unfinished ...>  ...  [pid 12] 1700000000.2 <... recvfrom resumed>"Hi", ...
UNFINISHED = re.compile(r'^(\[pid\s+(\d+)\]\s*|(\d+)\s+)?(\d+\.\d+ .*?) ?<unfinished \.\.\.>$')
RESUMED = re.compile(r'^(?:\[pid\s+(\d+)\]\s*|(\d+)\s+)?\d+\.\d+ <\.\.\. \w+ resumed> ?(.*)$')
ADDRESS = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([\d.]+)"\)')


def _bytes(quoted):
    """strace's quoted string as the bytes it shows (escapes as C writes them)."""
    return quoted.encode('latin-1').decode('unicode_escape').encode('latin-1')


def _joined(lines):
    """strace's lines with each call another thread interrupted (unfinished, resumed later) made whole
    again: the entry's time, the resumed line's result and -T time."""
    pending = {}
    for line in lines:
        line = line.strip()
        unfinished, resumed = UNFINISHED.match(line), RESUMED.match(line)
        if unfinished:
            pending[unfinished.group(2) or unfinished.group(3)] = (unfinished.group(1) or '') + unfinished.group(4)
        elif resumed and (resumed.group(1) or resumed.group(2)) in pending:
            yield pending.pop(resumed.group(1) or resumed.group(2)) + resumed.group(3)
        else:
            yield line


# parse reads strace's lines into the socket calls the lesson's program made to the server's port
# Arguments: lines - strace -f -ttt -T output lines, port - the server's (or nc's) port, sent - the
#            name of a TCP send in the program's language (Python's sendall, C's send)
# Return Value: a list of dicts: at (s since the epoch; when it returned, for accept and recv), call (as the lesson writes it), kind
#               ('accept', 'connect', 'send', 'recv', 'close'), data (bytes sent or read), udp (bool),
#               peer (the client's (ip, port) on a socket accept() returned, else None), line (strace's)
# Assumptions: only sockets that connect or send to PORT, or that accept() returned, count: the name
#              lookup's own socket (to the resolver's port 53) and files are left out
def parse(lines, port, sent='sendall'):
    sockets, found = {}, []
    towards = 'htons({})'.format(port)
    for line in _joined(lines):
        match = LINE.match(line)
        if not match:
            continue
        at, name, rest, result = float(match.group(1)), match.group(2), match.group(3), int(match.group(4))
        returned = at + float(match.group(5) or 0)  # strace -T: the time spent in the call
        fd = rest.split(',')[0]
        if name == 'socket' and result >= 0:
            sockets[str(result)] = {'udp': 'SOCK_DGRAM' in rest, 'ours': False, 'peer': None}
            continue
        if name in ('accept', 'accept4') and result >= 0:  # the server: a connection to its port
            client = ADDRESS.search(rest)
            sockets[str(result)] = {'udp': False, 'ours': True, 'peer': (client.group(2), int(client.group(1))) if client else None}
            fd, name = str(result), 'accept'
        if fd not in sockets:
            continue
        if name in ('connect', 'sendto') and towards in rest:
            sockets[fd]['ours'] = True
        udp, ours, peer = sockets[fd]['udp'], sockets[fd]['ours'], sockets[fd]['peer']
        if name == 'close':
            sockets.pop(fd)
        if not ours:
            continue
        quoted = STRING.search(rest)
        data = _bytes(quoted.group(1)) if quoted else b''
        call = {'at': at, 'data': b'', 'udp': udp, 'peer': peer, 'line': line}
        if name == 'accept':
            found.append({**call, 'at': returned, 'call': 'accept()', 'kind': 'accept'})
        elif name == 'connect':
            found.append({**call, 'call': 'connect()', 'kind': 'connect'})
        elif name in ('sendto', 'sendmsg') and result > 0:
            found.append({**call, 'call': ('sendto({!r})' if udp else sent + '({!r})').format(data[:result]),
                          'kind': 'send', 'data': data[:result]})
        elif name in ('recvfrom', 'recvmsg') and result >= 0:
            found.append({**call, 'at': returned, 'call': ('recvfrom() = {!r}' if udp else 'recv() = {!r}').format(data[:result]),
                          'kind': 'recv', 'data': data[:result]})
        elif name in ('close', 'shutdown'):
            found.append({**call, 'call': name + '()', 'kind': 'close'})
    return found


def _caused(call, packet):
    """Whether PACKET (sent by the call's side) is what CALL sends."""
    if call['kind'] == 'connect':
        return packet['flags'] == ['SYN']
    if call['kind'] == 'send':
        return bool(packet['payload']) and call['data'].startswith(packet['payload'][:len(call['data'])])
    # close() sends a FIN, or a reset when data it never read is left (RFC 2525's "close with data")
    return call['kind'] == 'close' and ('FIN' in packet['flags'] or 'RST' in packet['flags'])


def _read(call, packet):
    """Whether PACKET (sent to the call's side) is what CALL returned with."""
    if call['data']:  # the packet that brought the last of the bytes it returned
        return bool(packet['payload']) and call['data'].endswith(packet['payload'])
    return 'FIN' in packet['flags'] or packet['proto'] == 'UDP'  # recv() = b'': the peer closed


def _label(packet, text):
    packet['call'] = '{}; {}'.format(packet['call'], text) if packet.get('call') else text


# name_packets labels the packets with one side's calls
# Arguments: packets - ladder.read_packets' list (with 'at', the capture's absolute times),
#            calls - parse's list, side - whose calls: 'client' or 'server'
# Return Value: None; a packet gains 'call', e.g. "client: connect() at 0.120 ms" (both sides' calls,
#               "; " between), or the kernel's for a packet sent again
# Assumptions: calls come in the order they returned, packets in the order they were captured: the
#              k-th send of some bytes is the k-th packet to carry them (TCP keeps the order). Times
#              are not compared: strace's and the capture's clocks disagree by up to a millisecond
#              (seen: an accept() that "returned" before its SYN was captured); they are only shown.
def name_packets(packets, calls, side='client'):
    start = packets[0]['at'] if packets else 0
    for packet in packets:
        if 'call' not in packet:
            packet['call'] = 'kernel: sent again (retransmission)' if packet['retransmission'] else ''
    named = {}  # per kind of call, the packets named already (one packet may carry data and a FIN)
    for call in calls:
        text = '{}: {} at {:.3f} ms'.format(side, call['call'], (call['at'] - start) * 1000)
        taken = named.setdefault((call['kind'], bool(call['data'])), set())
        # a socket accept() returned has its client's address: only that connection's packets are its
        theirs = [i for i, p in enumerate(packets) if i not in taken and not p['retransmission'] and
                  (call['peer'] is None or call['peer'] == (p['src'] if p['to_server'] else p['dst']))]
        if call['kind'] == 'accept':  # returns once the handshake is complete: the first packet after the SYN
            chosen = [i for i in theirs if packets[i]['to_server'] and 'SYN' not in packets[i]['flags']]
        elif call['kind'] == 'recv':  # the packet to this side that brought what it returned
            chosen = [i for i in theirs if packets[i]['to_server'] == (side == 'server') and _read(call, packets[i])]
        else:  # the packet from this side that it sent
            chosen = [i for i in theirs if packets[i]['to_server'] == (side == 'client') and _caused(call, packets[i])]
        for i in chosen[:1]:
            taken.add(i)
            _label(packets[i], text)
