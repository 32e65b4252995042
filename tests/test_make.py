"""The make interface played the way a person plays it, in real terminals (pexpect): `make lab`,
`make tcp`, `make udp` in one terminal with `make nc` in another, `make down`.

It runs its own compose project (LAB_PROJECT), so a lab the user has running is never touched."""
import ipaddress
import time

import pexpect
import pytest

import labkit
from makeplay import address, container, finish, leftovers, lines, make, project_name, remove_project, wait_received

pytestmark = pytest.mark.docker
PROJECT = project_name()
LESSON = labkit.load_catalogue()['tcp-hello-world']['expect']
UDP = labkit.load_catalogue()['udp-typed-reply']
REPLY = next(step['type']['text'] for step in UDP['steps'] if 'type' in step)
DETACH = '\x10\x11'  # Ctrl-P Ctrl-Q, docker's detach keys


def logged_lines(found, count):
    """Its log's lines once there are `count` (docker's log copier may lag a little; bounded wait)."""
    deadline = time.monotonic() + labkit.WAIT
    while len(lines(found.logs().decode())) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines(found.logs().decode())


@pytest.fixture
def project(docker_client):
    yield PROJECT
    finish(make(PROJECT, 'down'))
    remove_project(docker_client, PROJECT)


def test_make_lab_tcp_udp_nc_down(project, docker_client):
    lab = make(project, 'lab')
    lab.expect('The lab is up')
    shown = lines(lab.before)
    assert finish(lab) == 0, lab.before
    # What runs, one line each: container, address on the lab network, the lesson's command.
    server, netcat = (container(docker_client, project, s) for s in ('server', 'netcat'))
    assert shown[:2] == [
        '  server  {}  {}  python3 ServerPython.py --port=12345'.format(server.name, address(docker_client, project, 'server')[1]),
        '  netcat  {}  {}  nc.openbsd -l -u 12345'.format(netcat.name, address(docker_client, project, 'netcat')[1])]

    for _ in range(2):  # again a second time: the server keeps serving
        tcp = make(project, 'tcp')
        tcp.expect(pexpect.EOF)
        assert lines(tcp.before) == LESSON['client']
        assert finish(tcp) == 0
    network, server_ip = address(docker_client, project, 'server')
    subnet = ipaddress.ip_network(docker_client.networks.get(network).attrs['IPAM']['Config'][0]['Subnet'])
    server_log = logged_lines(container(docker_client, project, 'server'), 5)
    connections = [line for line in server_log if line.startswith('Received new connection')]
    assert server_log == [LESSON['server'][0]] + [connections[0], LESSON['server'][2], connections[1], LESSON['server'][2]]
    for line in connections:  # the client container's address on the lab network, not the server's
        client_ip = line.split("('")[1].split("'")[0]
        assert ipaddress.ip_address(client_ip) in subnet and client_ip != server_ip
        assert [line] == labkit.render(LESSON['server'][1:2], [line], {'client_ip': client_ip})

    mistake = make(project, 'tcp', 'ARGS=--send-str')  # the client's flags pass through make, its failure too
    mistake.expect(pexpect.EOF)
    assert lines(mistake.before)[:2] == labkit.load_catalogue()['tcp-send-str-mistake']['expect']['client'] + [
        "TypeError: a bytes-like object is required, not 'str'"]
    assert finish(mistake) == 2

    for _ in range(2):  # a second `make udp` meets a fresh listener, like the first
        udp = make(project, 'udp')
        udp.expect_exact(LESSON['client'][0] + '\r\n')
        wait_received(docker_client, project, 'Hello, world')
        nc = make(project, 'nc')
        nc.expect_exact('Hello, world')
        nc.send(REPLY.replace('\n', '\r'))  # Enter, as a keyboard sends it
        _, nc_ip = address(docker_client, project, 'netcat')
        udp.expect(pexpect.EOF)
        assert lines(udp.before) == labkit.render(UDP['expect']['client'][1:], [], {'netcat_ip': nc_ip})
        assert finish(udp) == 0
        nc.send(DETACH)
        assert finish(nc) == 0

    down = make(project, 'down')
    down.expect('The lab is down')
    assert finish(down) == 0
    assert leftovers(docker_client, project) == ([], [])


@pytest.mark.parametrize('setting, message', [
    ('SERVER_PORT=abc', "bad SERVER_PORT 'abc': give a number from 1 to 65535"),
    ('SERVER_PORT=70000', "bad SERVER_PORT '70000': give a number from 1 to 65535"),
    ('NC_FLAVOR=gnu', "bad NC_FLAVOR 'gnu': give openbsd, traditional or ncat"),
])
def test_make_refuses_a_bad_setting_in_one_line(setting, message):
    terminal = make(PROJECT, 'lab', setting)
    terminal.expect(pexpect.EOF)
    assert lines(terminal.before)[0] == message
    assert finish(terminal) == 2
