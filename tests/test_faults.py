"""Faults survived: the server killed mid-exchange, Ctrl-C in the middle of a target. Nothing is left
running that the target started, and the next make lab + make tcp serve the lesson as before."""
import pexpect
import pytest

from socketlab import engine, health
from makeplay import (LESSON, answered_udp, container, lab_up, leftovers, make, project_name, run, udp_client_lines,
                      wait_received)

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('faults')]
PROJECT = project_name('-faults')


@pytest.fixture(scope='module')
def running_lab():
    """This module's lab, brought up by make lab and taken down after it: its project's name."""
    yield from lab_up(PROJECT)


def one_offs(project):
    return [c for c in leftovers(project)[0] if c.labels.get(engine.ONEOFF_LABEL) == 'True']


def test_the_server_killed_mid_exchange_then_make_tcp_brings_it_back(running_lab):
    nc = make(PROJECT, 'server-nc')  # a client connected to the server, mid-exchange
    try:
        server = container(PROJECT, 'server')
        health.eventually(lambda: 'Received new connection' in server.logs().decode(), what='nc never connected')
        nc.send('Hello\r')
        nc.expect_exact('Hello\r\nHello\r\n')
        server.kill()
        nc.sendcontrol('d')  # nc (openbsd) keeps reading its terminal after the server is gone: close it
        nc.expect(pexpect.EOF)
    finally:
        nc.close(force=True)
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)
    assert not one_offs(PROJECT)


def test_ctrl_c_while_the_client_waits_leaves_nothing_running(running_lab):
    udp = make(PROJECT, 'udp')  # waits for a reply nobody types
    try:
        udp.expect_exact(LESSON['client'][0])
        udp.sendintr()  # Ctrl-C, as a person presses it
        udp.expect(pexpect.EOF)
    finally:
        udp.close(force=True)
    assert udp.exitstatus != 0 or udp.signalstatus
    assert not one_offs(PROJECT)
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


def test_ctrl_c_during_a_capture_leaves_no_sidecar(running_lab):
    capture = make(PROJECT, 'udp', 'CAPTURE=1')
    try:
        capture.expect_exact(LESSON['client'][0])
        capture.sendintr()
        capture.expect(pexpect.EOF)
    finally:
        capture.close(force=True)
    assert not one_offs(PROJECT), [c.name for c in one_offs(PROJECT)]
    assert run(PROJECT, 'tcp') == (LESSON['client'], 0)


def test_make_down_with_a_client_still_connected_removes_everything():
    project = project_name('-down-busy')
    run(project, 'lab')
    nc = make(project, 'server-nc')  # a person's nc, still connected
    try:
        server = container(project, 'server')
        health.eventually(lambda: 'Received new connection' in server.logs().decode(), what='nc never connected')
        output, status = run(project, 'down')
        assert status == 0 and output[-1].startswith('The lab is down')
        assert leftovers(project) == ([], [])
    finally:
        nc.close(force=True)


def test_nc_killed_mid_exchange_then_the_udp_exchange_works(running_lab):
    udp = make(PROJECT, 'udp', 'ARGS=--timeout 2')
    try:
        udp.expect_exact(LESSON['client'][0])
        wait_received(PROJECT, 'Hello, world')
        container(PROJECT, 'netcat').kill()  # nc gone before anybody typed the reply
        udp.expect(pexpect.EOF)
    finally:
        udp.close(force=True)
    assert udp.exitstatus == 2 and 'no UDP reply from netcat port 12345 within 2 s' in udp.before
    assert not one_offs(PROJECT)
    client_lines, nc_ip, status = answered_udp(PROJECT)  # the next make udp meets a fresh listener
    assert (client_lines, status) == (udp_client_lines(nc_ip), 0)
