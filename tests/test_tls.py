"""Lesson 7's TLS through make, on a lab of the suite's own: make lab STAGE=tls-as-printed and STAGE=tls,
make tls (refused, then the check off, then the lab's CA), make status saying where the CA is, and the
capture: TLS records on the ladder and no readable payload, where lesson 3's capture shows 'Hello, world'.
The catalogue (tests/exchanges.yaml, "TLS") holds the exchanges themselves, the outside clients included."""
import html
import os
import shutil

import pytest

from socketlab.paths import ROOT
from socketlab.wire import ladder
from makeplay import LESSON, captured, project_name, run, server_logs

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('tls')]
PROJECT = project_name('-tls-lab')
REFUSED = ("ClientPython: error: the server's certificate is not trusted: self-signed certificate: trust the lab's CA "
           "(--ca, with make lab STAGE=tls), or switch the check off as the lesson does next (--no-check)")


@pytest.fixture(scope='module')
def results():
    """A results folder of this run inside the project; the lab taken down after the module."""
    folder = ROOT / 'results' / '.test-{}-tls'.format(os.environ['SOCKET_LAB_RUN'])
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder)
    run(PROJECT, 'down')


def capture(results, *args):
    """make ARGS CAPTURE=1: (its output lines, its exit status, the pcap's bytes, its packets)."""
    output, status, pcap = captured(PROJECT, results, *args)
    return output, status, pcap.read_bytes(), ladder.read_packets(pcap, 12345)


def test_the_lessons_order_refused_then_the_check_off(results):
    """make tls at the lesson's stage: its self-signed certificate refused (one line), which ends the
    lesson's server; then, the check switched off, make tls brings the server back and is echoed."""
    output, status = run(PROJECT, 'lab', 'STAGE=tls-as-printed')
    assert status == 0, output
    output, status = run(PROJECT, 'tls')
    assert output[:2] == ['Starting client...', REFUSED] and status == 2
    logs, _ = run(PROJECT, 'logs')  # its log ends with its last line
    assert server_logs(logs, PROJECT)[-1] == 'Shutting down gracefully...'
    assert run(PROJECT, 'tls', 'ARGS=--no-check') == (LESSON['client'], 0)


def test_status_says_where_the_labs_ca_is(results):
    shown, status = run(PROJECT, 'status')
    assert status == 0
    assert "TLS: the lab's CA certificate is .lab/{}/tls/ca.crt (in the containers: /tls/ca.crt); make down removes it".format(
        PROJECT) in shown
    assert (ROOT / '.lab' / PROJECT / 'tls' / 'ca.crt').stat().st_uid == os.getuid()  # the user's own file


def test_the_labs_ca_verified_and_the_capture_holds_no_readable_payload(results):
    """Lesson 3's capture at the plaintext stage shows 'Hello, world' both ways; then STAGE=tls: make tls
    ARGS=--ca verifies the server, its capture names the TLS records and holds no 'Hello, world', and its
    page shows lesson 3's capture beside it."""
    assert run(PROJECT, 'lab', 'STAGE=simple')[1] == 0
    output, status, pcap, packets = capture(results, 'tcp')
    assert status == 0 and output[:2] == LESSON['client']
    assert [p['payload'] for p in packets if p['payload']] == [b'Hello, world', b'Hello, world']
    assert run(PROJECT, 'lab', 'STAGE=tls')[1] == 0
    output, status, pcap, packets = capture(results, 'tls', 'ARGS=--ca')
    assert status == 0 and output[:2] == LESSON['client']
    shown = '\n'.join(output)
    assert ' TLS ClientHello -' in shown
    assert 'TLS ServerHello, ChangeCipherSpec, ApplicationData' in shown
    assert b'Hello, world' not in pcap and not any(b'Hello, world' in p['payload'] for p in packets)
    assert all(ladder.tls_records(p['payload']) for p in packets if p['payload'])
    page, = (path.read_text() for path in results.glob('tls-*.html'))
    tls_part, beside = page.split("<h2>Under it, for comparison, lesson 3's capture: the same exchange in plaintext</h2>")
    assert 'TLS ClientHello' in tls_part and 'Hello, world' not in tls_part.split('<script')[0]
    assert html.escape("b'Hello, world'") in beside and '<g id="q0" class="packet">' in beside


def test_tls_at_a_plaintext_stage_says_so_and_fails_in_one_line(results):
    """The lesson's TLS client at lesson 2's echo server: the lab says the stage speaks no TLS; the
    client's ClientHello is echoed back to it, which it cannot take (facts: UNEXPECTED_MESSAGE)."""
    assert run(PROJECT, 'lab', 'STAGE=simple')[1] == 0
    output, status = run(PROJECT, 'tls', 'ARGS=--timeout 10')
    assert output[:2] == ["Lab: the server runs stage simple, which speaks no TLS: make lab STAGE=tls-as-printed "
                          "(the lesson's) or STAGE=tls (the lab's CA) first.", 'Starting client...']
    assert output[2].startswith('ClientPython: error: TLS with server port 12345 failed: ') and status == 2
