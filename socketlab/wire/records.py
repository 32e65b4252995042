"""Lesson 7's binary records, field by field, as a capture's page shows them: the bytes each direction
of a TCP exchange carried, read the way the lab's RecordServer reads them (server/RecordServer.py says
the format: a 2-byte command, counts and lengths, every number big-endian). Endianness seen as bytes:
the count 30 goes on the wire as 00 00 00 1e.
"""
import struct

COMMANDS = {0x0001: 'UPLOAD_CMD', 0x0002: 'QUERY_CMD'}
# A log entry after its three strings: (field, struct format), in the order send_log_entry packs them
NUMBERS = (('port', '!H'), ('accessTime', '!I'), ('dataSent', '!I'), ('dataReceived', '!I'), ('score', '!f'))
STRINGS = ('username', 'IP', 'server')
SHOWN = 400  # rows of one direction kept for the page: far past a lesson's upload of 30 entries (about 500 bytes of fields)


class _Short(Exception):
    """The bytes end inside a field: the rest was not captured, or is no record of lesson 7's."""


class _Full(Exception):
    """SHOWN rows taken: the page shows no more, so no more are read."""


class _Reader:
    """Takes fields off the front of one direction's bytes, a row for each: (offset, bytes as hex, field, value)."""

    def __init__(self, data):
        self.data, self.at, self.rows = data, 0, []

    def take(self, name, fmt=None, size=None, show=str):
        if len(self.rows) == SHOWN:
            raise _Full
        size = struct.calcsize(fmt) if fmt else size
        if self.at + size > len(self.data):
            raise _Short
        raw = self.data[self.at:self.at + size]
        value = struct.unpack(fmt, raw)[0] if fmt else raw
        self.rows.append((self.at, raw.hex(' '), name, show(value)))
        self.at += size
        return value

    def rest(self, why):
        if self.at < len(self.data):
            left = self.data[self.at:]
            self.rows.append((self.at, left[:16].hex(' ') + (' ...' if len(left) > 16 else ''), why,
                              '{} bytes'.format(len(left))))
        return self.rows


def _entry(reader, number):
    """One log entry: three 2-byte lengths, the three UTF-8 strings, then its numbers."""
    lengths = [reader.take('entry {}: {} length'.format(number, name), '!H') for name in STRINGS]
    for name, length in zip(STRINGS, lengths):
        reader.take('entry {}: {}'.format(number, name), size=length, show=lambda raw: repr(raw.decode('utf-8', 'replace')))
    for name, fmt in NUMBERS:
        show = (lambda value: '{!r} (a 4-byte float)'.format(value)) if fmt == '!f' else str
        reader.take('entry {}: {}'.format(number, name), fmt, show=show)


def requests(data):
    """The client's bytes (to the server) as rows: each command, and the upload's entries or the query's filter."""
    reader = _Reader(data)
    try:
        while reader.at < len(data):
            command = reader.take('command', '!H', show=lambda value: '0x{:04x} {}'.format(
                value, COMMANDS.get(value, '(no command of lesson 7: the rest is not read)')))
            if command == 0x0001:
                for number in range(1, reader.take('count of entries', '!I') + 1):
                    _entry(reader, number)
            elif command == 0x0002:
                length = reader.take('filter length', '!I')
                reader.take('filter', size=length, show=lambda raw: repr(raw.decode('utf-8', 'replace')))
            else:
                break
    except _Short:
        return reader.rest('(cut short: a field goes on past the captured bytes)')
    except _Full:
        return reader.rest('(not shown: past {} fields)'.format(SHOWN))
    return reader.rest('(not read)')


def answers(data):
    """The server's bytes (to the client) as rows: each query's answer, a count and that many entries."""
    reader = _Reader(data)
    try:
        while reader.at < len(data):
            for number in range(1, reader.take('answer: count of entries', '!I') + 1):
                _entry(reader, number)
    except _Short:
        return reader.rest('(cut short: a field goes on past the captured bytes)')
    except _Full:
        return reader.rest('(not shown: past {} fields)'.format(SHOWN))
    return reader.rest('(not read)')


def stream(packets, to_server):
    """The bytes one direction of a TCP exchange carried, in order, each once: each segment's payload laid
    at its sequence number, so a copy sent again lands on its own bytes however the kernel cut it (Linux
    may join small segments it sends again, which leaving out exact copies only would have counted twice)."""
    segments = [packet for packet in packets
                if packet['proto'] == 'TCP' and packet['to_server'] == to_server and packet['payload']]
    data = bytearray()
    start = min((packet['seq'] for packet in segments), default=0)
    for packet in segments:
        offset = packet['seq'] - start
        data.extend(bytes(max(0, offset - len(data))))  # not seen yet (captured out of order): filled when seen
        data[offset:offset + len(packet['payload'])] = packet['payload']
    return bytes(data)


def decode(packets):
    """{'to the server': rows, 'from the server': rows} of a capture's packets (ladder.read_packets' dicts)."""
    return {'to the server': requests(stream(packets, True)), 'from the server': answers(stream(packets, False))}
