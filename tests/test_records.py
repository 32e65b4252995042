"""Lesson 7's binary records: the bytes the client's upload puts on the wire (host-side: the facts' 1559
bytes, newest entry first), the lab's RecordServer's filter as the lesson's rules say (a table), the
capture's decoding of the fields; and through make, on a lab of the suite's own: make lab SERVER=records,
make upload, make query, make upload CAPTURE=1 and its page. The catalogue (tests/exchanges.yaml,
"binary records") holds the exchanges themselves, the lesson's own menu client at each step included."""
import html
import os
import shutil
import struct

import pytest

from socketlab import catalogue
from socketlab.paths import ROOT
from socketlab.wire import ladder, records
from makeplay import captured, project_name, run
from test_programs import load

EXCHANGE = catalogue.load_catalogue()['records-upload-and-query']


CLIENT = load(ROOT / 'client' / 'ClientPython.py')
SERVER = load(ROOT / 'server' / 'RecordServer.py')


class Wire:
    """What a socket was given to send, in order."""

    def __init__(self):
        self.sent = b''

    def sendall(self, data):
        self.sent += data


def uploaded():
    wire = Wire()
    CLIENT.upload_logs(wire, CLIENT.load_file_data(ROOT / 'client' / 'test.log'))
    return wire.sent


def test_the_upload_of_test_log_is_the_facts_1559_bytes_newest_entry_first():
    data = uploaded()
    assert len(data) == 1559
    assert data[:16].hex(' ', 2) == '0001 0000 001e 0004 000b 0008 4a75 6479'  # UPLOAD_CMD, 30, Judy's lengths, 'Judy'


def test_the_capture_decodes_each_field_of_the_upload():
    rows = records.requests(uploaded())
    assert rows[:6] == [(0, '00 01', 'command', '0x0001 UPLOAD_CMD'), (2, '00 00 00 1e', 'count of entries', '30'),
                        (6, '00 04', 'entry 1: username length', '4'), (8, '00 0b', 'entry 1: IP length', '11'),
                        (10, '00 08', 'entry 1: server length', '8'), (12, '4a 75 64 79', 'entry 1: username', "'Judy'")]
    assert (35, '01 bb', 'entry 1: port', '443') in rows  # 443 big-endian
    assert (49, '40 33 33 33', 'entry 1: score', '2.799999952316284 (a 4-byte float)') in rows  # 2.8 as 4 bytes
    assert rows[-1] == (1555, '3f c0 00 00', 'entry 30: score', '1.5 (a 4-byte float)')
    assert len(rows) == 2 + 30 * 11


def segment(seq, payload, to_server=True, retransmission=False):
    return {'proto': 'TCP', 'to_server': to_server, 'seq': seq, 'payload': payload, 'flags': ['PSH', 'ACK'],
            'retransmission': retransmission}


# (the segments captured, in the order captured; the bytes the client sent)
@pytest.mark.parametrize('segments', [
    [segment(1, b'Hello, '), segment(8, b'world')],
    [segment(1, b'Hello, '), segment(8, b'world'), segment(8, b'world', retransmission=True)],  # the same copy again
    [segment(1, b'Hel'), segment(4, b'lo, '), segment(8, b'world'), segment(4, b'lo, world')],  # sent again, joined
    [segment(8, b'world'), segment(1, b'Hello, ')],  # captured out of order
    [segment(1, b'Hello, '), segment(1, b'ack', to_server=False), segment(8, b'world')],  # the other way apart
], ids=['in-order', 'an-exact-copy', 'a-joined-copy', 'out-of-order', 'both-ways'])
def test_a_direction_of_the_capture_is_its_bytes_once_however_they_were_sent_again(segments):
    assert records.stream(segments, True) == b'Hello, world'


def test_the_capture_reads_no_more_fields_than_its_page_shows():
    data = uploaded() * 2  # 664 fields
    rows = records.requests(data)
    assert len(rows) == records.SHOWN + 1
    assert rows[-1][2:] == ('(not shown: past {} fields)'.format(records.SHOWN), '{} bytes'.format(len(data) - rows[-1][0]))


def test_the_capture_says_where_the_bytes_stop_being_records():
    assert records.requests(b'\x00\x01\x00\x00') == [(0, '00 01', 'command', '0x0001 UPLOAD_CMD'),
                                                     (2, '00 00', '(cut short: a field goes on past the captured bytes)', '2 bytes')]
    assert records.requests(b'Hello') == [(0, '48 65', 'command', '0x4865 (no command of lesson 7: the rest is not read)'),
                                          (2, '6c 6c 6f', '(not read)', '3 bytes')]
    answer = struct.pack('!I', 0)
    assert records.answers(answer) == [(0, '00 00 00 00', 'answer: count of entries', '0')]


# The lesson's filter cases (facts: "what a lab must reproduce", 7), and its rules where they surprise:
# on the entries as the server received them (a score is a 4-byte float on the wire).
FILTERS = [('username=Alice', 1), ('score>=4', 2), ('score>3.5', 2), ('', 0), ('turnip', 0), ('score=1.2', 0),
           ('score=1.5', 3), ('username=Alice, score>1', 1), ('username==Alice', 30), ('username!=Alice', 29),
           ('port<443', 0), ('accessTime>=1633076221', 1)]


def received_entries():
    entries = CLIENT.load_file_data(ROOT / 'client' / 'test.log')
    return [{**entry, 'score': struct.unpack('!f', struct.pack('!f', entry['score']))[0]} for entry in entries]


@pytest.mark.parametrize('query, kept', FILTERS)
def test_the_record_servers_filter_keeps_what_the_lessons_filter_keeps(query, kept):
    assert len(SERVER.apply_filter(received_entries(), query)) == kept


@pytest.mark.parametrize('query, said', [('ip=1.2.3.4', 'Field not found: ip'),
                                         ('score>abc', "could not convert string to float: 'abc'")])
def test_the_record_servers_filter_refuses_what_the_lessons_refuses(query, said):
    with pytest.raises(ValueError, match='^' + said + '$'):
        SERVER.apply_filter(received_entries(), query)


# --- through make, on a lab of the suite's own ------------------------------------------------------
PROJECT = project_name('-records-lab')


@pytest.fixture(scope='module')
def results():
    """A results folder of this run inside the project; the lab taken down after the module."""
    folder = ROOT / 'results' / '.test-{}-records'.format(os.environ.get('SOCKET_LAB_RUN', 'alone'))
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder)
    run(PROJECT, 'down')


@pytest.mark.docker
@pytest.mark.xdist_group('records')
def test_make_upload_then_make_query_against_the_labs_record_server(results):
    output, status = run(PROJECT, 'lab', 'SERVER=records')
    assert status == 0, output
    assert ("The lab is up: server (python3 RecordServer.py, the lab's server for lesson 7's upload and query, TCP port "
            "12345), netcat (nc flavour openbsd, UDP port 12345).") in output
    assert output[-5:] == ['Next:', '  make upload  the client uploads client/test.log (lesson 7)',
                           "  make query   the entries a filter keeps: make query QUERY='score>=4'",
                           "  make menu    your own client's menu (lessons 6-7), typed into", '  make down    stop it all']
    assert run(PROJECT, 'upload') == (catalogue.flat(EXCHANGE['expect']['upload']), 0)
    assert run(PROJECT, 'query', 'QUERY=score>=4') == (catalogue.flat(EXCHANGE['expect']['four']), 0)
    shown, status = run(PROJECT, 'status')
    assert status == 0 and any(line.endswith('python3 RecordServer.py --port=12345') for line in shown), shown


@pytest.mark.docker
@pytest.mark.xdist_group('records')
def test_make_upload_captured_shows_the_records_field_by_field(results):
    assert run(PROJECT, 'lab', 'SERVER=records')[1] == 0
    output, status, pcap = captured(PROJECT, results, 'upload')
    assert status == 0, output
    packets = ladder.read_packets(pcap, 12345)
    assert records.stream(packets, True) == uploaded()  # the 1559 bytes, as the host-side test computes them
    page = pcap.with_suffix('.html').read_text()
    assert "<h2>Lesson 7's records, field by field (every number big-endian: network order)</h2>" in page
    assert '<tr><td>2</td><td>00 00 00 1e</td><td>count of entries</td><td>30</td></tr>' in page
    assert '<tr><td>12</td><td>4a 75 64 79</td><td>entry 1: username</td><td>{}</td></tr>'.format(html.escape("'Judy'")) in page


@pytest.mark.docker
@pytest.mark.xdist_group('records')
def test_what_the_record_targets_refuse_in_one_line(results):
    """A filter with a control character, before anything runs; make menu with the lab's client (it has
    no menu); make tls at the record server says it speaks no TLS."""
    output, status = run(PROJECT, 'query', 'QUERY=a\x01b')  # make's own last line: which target failed
    assert (output[:-1], status) == (
        ["bad QUERY 'a\\x01b': give a filter of printable text, at most 200 characters, e.g. QUERY='username=Alice'"], 2)
    output, status = run(PROJECT, 'menu')
    assert (output[:-1], status) == (["make menu runs a client that ends by calling start_client(), lesson 6's menu; "
                                      "client/ClientPython.py is the lab's: make upload and make query run the lab's "
                                      "client's upload and query"], 2)
    assert run(PROJECT, 'lab', 'SERVER=records')[1] == 0
    output, status = run(PROJECT, 'tls', 'ARGS=--timeout 5')
    assert output[0] == ("Lab: the server is the lab's RecordServer, which speaks no TLS: make lab SERVER=python "
                         "STAGE=tls first.") and status == 2


def test_the_record_server_stores_an_upload_whole_or_not_at_all(monkeypatch):
    """Its bounds: an upload past what it keeps is refused, none of it stored; one cut short stores none."""
    import socket
    monkeypatch.setattr(SERVER, 'MAX_BYTES', 100)
    monkeypatch.setattr(SERVER, 'storedLogs', [])
    client, server = socket.socketpair()
    with client, server:
        client.sendall(uploaded()[2:])  # the command already read, as handle_client reads it
        with pytest.raises(ValueError, match='^an upload past 100 bytes: none stored$'):
            SERVER.handle_upload(server, ('127.0.0.1', 1))
    assert SERVER.storedLogs == []
    client, server = socket.socketpair()
    with client, server:
        client.sendall(uploaded()[2:60])
        client.shutdown(socket.SHUT_WR)
        assert SERVER.handle_upload(server, ('127.0.0.1', 1)) is False
    assert SERVER.storedLogs == []
