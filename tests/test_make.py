"""The make interface played the way a person plays it, in real terminals (pexpect), one step a test
over one lab: `make lab`, `make tcp`, `make udp` in one terminal with `make nc` in another, `make
capture`, `make down`. With Compose v2 (the first path) and, as a smoke of the same steps, with
docker-compose 1.29 (COMPOSE=v1). Each runs its own compose project, so a user's lab is never touched."""
import ipaddress
import os

import pexpect
import pytest

from socketlab import catalogue, compose as composes, engine, health
from socketlab.paths import ROOT
from makeplay import (CATALOGUE, LESSON, UDP_REPLY, address, container, finish, leftovers, lines, make, project_name, run,
                      udp_client_lines, wait_received)

DETACH = '\x10\x11'  # Ctrl-P Ctrl-Q, docker's detach keys


def v1_missing():
    try:
        composes.choose('v1')
    except composes.ComposeMissing as error:
        return str(error)


COMPOSES = [pytest.param('v2', marks=pytest.mark.xdist_group('make-v2')),
            pytest.param('v1', marks=[pytest.mark.xdist_group('make-v1'),
                                      pytest.mark.skipif(bool(v1_missing()), reason=v1_missing() or '')])]
pytestmark = pytest.mark.docker
both = pytest.mark.parametrize('walk', COMPOSES, indirect=True)
# Steps that do not depend on which compose runs the lab: with v2 only (v1's is a smoke of the rest).
v2_only = pytest.mark.parametrize('walk', COMPOSES[:1], indirect=True)


class Walk:
    """One lab, brought up by `make lab` with one compose, walked through step by step."""

    def __init__(self, compose):
        self.compose, self.project = compose, project_name('-make-' + compose)

    def make(self, *args, env=None):
        return make(self.project, *args, env=env, compose=self.compose)

    def run(self, *args, env=None):
        return run(self.project, *args, env=env, compose=self.compose)


@pytest.fixture(scope='module')
def walk(request):
    walk = Walk(request.param)
    terminal = walk.make('lab')
    terminal.expect('The lab is up')
    walk.lab_output = lines(terminal.before)
    walk.lab_status = finish(terminal)
    yield walk
    walk.run('down')  # cleanup only: test_down checks what make down does


@both
def test_lab_says_what_runs_where(walk):
    """One line each: container, its address on the lab network, the lesson's command."""
    assert walk.lab_status == 0, walk.lab_output
    server, netcat = (container(walk.project, s) for s in ('server', 'netcat'))
    assert walk.lab_output[:2] == [
        '  server  {}  {}  python3 ServerPython.py --port=12345'.format(server.name, address(walk.project, 'server')[1]),
        '  netcat  {}  {}  nc.openbsd -l -u 12345'.format(netcat.name, address(walk.project, 'netcat')[1])]


@both
def test_status_says_which_compose_runs(walk):
    output, status = walk.run('status')
    assert status == 0 and output[-1] == 'compose: ' + composes.choose(walk.compose).name


@both
def test_tcp_twice_the_server_keeps_serving(walk):
    for _ in range(2):
        output, status = walk.run('tcp')
        assert (output, status) == (LESSON['client'], 0)
    network, server_ip = address(walk.project, 'server')
    subnet = ipaddress.ip_network(engine.client().networks.get(network).attrs['IPAM']['Config'][0]['Subnet'])

    def logged():
        found = lines(container(walk.project, 'server').logs().decode())
        return found if len(found) >= 5 else None
    server_log = health.eventually(logged, what='the server did not log both clients')
    connections = [line for line in server_log if line.startswith('Received new connection')]
    assert server_log[-5:] == [LESSON['server'][0], connections[-2], LESSON['server'][2], connections[-1], LESSON['server'][2]]
    for line in connections:  # the client container's address on the lab network, not the server's
        client_ip = line.split("('")[1].split("'")[0]
        assert ipaddress.ip_address(client_ip) in subnet and client_ip != server_ip
        assert [line] == catalogue.render(LESSON['server'][1:2], [line], {'client_ip': client_ip})


@v2_only
def test_a_warm_make_tcp_never_imports_the_docker_sdk(walk):
    """The learner's loop talks to the Engine through socketlab.api: importing the docker SDK (its
    requests and urllib3) cost each make tcp 0.1 s, a third of what it spent above its floor."""
    output, status = walk.run('tcp', env={'PYTHONPROFILEIMPORTTIME': '1'})
    imported = [line.split('|')[-1].strip() for line in output if line.startswith('import time:')]
    assert 'socketlab.api' in imported
    assert [name for name in imported if name.split('.')[0] in ('docker', 'requests', 'urllib3')] == []
    assert ([line for line in output if not line.startswith('import time:')], status) == (LESSON['client'], 0)


@v2_only
def test_tcp_passes_args_and_the_clients_failure(walk):
    output, status = walk.run('tcp', 'ARGS=--send-str')
    assert output[:2] == CATALOGUE['tcp-send-str-mistake']['expect']['client'] + [
        "TypeError: a bytes-like object is required, not 'str'"]
    assert status == 2  # make's own status for a failed recipe


@both
def test_udp_answered_in_make_nc_twice(walk):
    """A second make udp meets a fresh listener, like the first (v1: once)."""
    for _ in range(2 if walk.compose == 'v2' else 1):
        udp = walk.make('udp')
        udp.expect_exact(LESSON['client'][0] + '\r\n')
        wait_received(walk.project, 'Hello, world')
        nc = walk.make('nc')
        nc.expect_exact('Hello, world')
        nc.send(UDP_REPLY.replace('\n', '\r'))  # Enter, as a keyboard sends it
        _, nc_ip = address(walk.project, 'netcat')
        udp.expect(pexpect.EOF)
        assert lines(udp.before) == udp_client_lines(nc_ip)
        assert finish(udp) == 0
        nc.send(DETACH)
        nc.expect_exact('[detached: nc keeps listening]')
        assert finish(nc) == 0


@both
def test_capture_writes_the_users_pcap_and_ladder(walk):
    folder = 'results/.test-{}-{}'.format(os.environ['SOCKET_LAB_RUN'], walk.compose)
    output, status = walk.run('capture', 'RESULTS=' + folder)
    assert status == 0 and output[:2] == LESSON['client']
    assert output[3].startswith("Captured in server's network namespace: {}/tcp-".format(folder))
    pcap, = (ROOT / folder).glob('*.pcap')
    svg, page, traced = pcap.with_suffix('.svg'), pcap.with_suffix('.html'), pcap.with_suffix('.calls.txt')
    assert all(path.stat().st_uid == os.getuid() for path in (pcap, svg, page, traced))  # the user's own files
    assert "b&#x27;Hello, world&#x27;" in svg.read_text() and svg.read_text() in page.read_text()
    assert output[-1] == 'The system calls it names, as strace saw them: {}'.format(traced.relative_to(ROOT))
    assert sorted(p.name for p in (ROOT / folder).iterdir()) == sorted(p.name for p in (pcap, svg, page, traced))
    for path in (pcap, svg, page, traced):
        path.unlink()
    (ROOT / folder).rmdir()


@v2_only
def test_the_threads_stage_serves_a_client_while_nc_holds_a_connection(walk):
    """The next lesson's stage 2 in real terminals: make lab STAGE=threads (remembered by the lab), nc
    held open by make server-nc, make tcp served at once, then nc's next line with no new connection."""
    output, status = walk.run('lab', 'STAGE=threads')
    assert status == 0 and output[0].endswith('python3 ServerPython.py --port=12345  (stage threads)')
    nc = walk.make('server-nc')
    nc.send('Hello\r')
    nc.expect_exact('Hello\r\nHello\r\n')
    assert walk.run('tcp') == (LESSON['client'], 0)  # no STAGE given: the lab's own
    nc.send('Still here!\r')
    nc.expect_exact('Still here!\r\nStill here!\r\n')
    nc.sendcontrol('d')
    assert finish(nc) == 0
    server_log = lines(container(walk.project, 'server').logs().decode())
    assert [line.split(' (')[0] for line in server_log[-5:]] == [
        'Received new connection from ', "Received: b'Hello\\n'", 'Received new connection from ',
        "Received: b'Hello, world'", "Received: b'Still here!\\n'"]


@v2_only
def test_clients_two_loops_at_once_with_the_lock_count_every_message(walk):
    output, status = walk.run('lab', 'STAGE=lock')
    assert status == 0
    output, status = walk.run('clients', 'N=3', 'LOOPS=2')
    assert status == 0
    assert [line.split(' on ')[0] for line in output[:2]] == ['loop 1', 'loop 2']
    assert [line.split(': ', 1)[1] for line in output[:2]] == ['3 clients, 3 printed "Received: b\'Hello, world\'"'] * 2
    assert output[2] == "The server's last line (make logs shows them all): Total messages received: 6"


@both
def test_down_removes_the_lab(walk):
    output, status = walk.run('down')
    assert status == 0 and output[-1].startswith('The lab is down')
    assert leftovers(walk.project) == ([], [])


def test_bad_settings_are_refused_in_one_line():
    project = project_name('-make-refused')  # a lab of its own that nothing has started
    for setting, message in [
            ('SERVER_PORT=abc', "bad SERVER_PORT 'abc': give a number from 1 to 65535"),
            ('NC_FLAVOR=gnu', "bad NC_FLAVOR 'gnu': give openbsd, traditional or ncat")]:
        output, status = run(project, 'lab', setting)
        assert (output[0], status) == (message, 2)
    assert leftovers(project) == ([], [])  # refused before anything started
