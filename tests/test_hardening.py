"""Hardening proven at run time: every container the lab makes while a person uses it (server, netcat,
the client, nc's fresh listeners, the capture sidecar, the impairment helpers and user-space queues)
inspected by the Engine as it was created, not read from compose.yaml."""
import os
import shutil

import pytest

from socketlab import engine
from socketlab.paths import ROOT
from makeplay import Created, project_name, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('hardening')]
PROJECT = project_name('-hardening')
ADDED = {'server': [], 'netcat': [], 'client': [], 'capture-server': ['NET_RAW', 'SETGID', 'SETUID'],
         'impair-server': ['NET_ADMIN'], 'impair-netcat': ['NET_ADMIN'],
         'queue-server': ['NET_ADMIN', 'NET_RAW'], 'queue-netcat': ['NET_ADMIN', 'NET_RAW'], 'trace-server': ['SYS_PTRACE']}
WIRE_TOOLS = {'capture-server', 'impair-server', 'impair-netcat', 'queue-server', 'queue-netcat', 'trace-server'}


@pytest.fixture(scope='module')
def created():
    """{service: [inspections]} of every container created for the lab while it is used through make."""
    created = Created(engine.PROJECT_LABEL + '=' + PROJECT)
    results = ROOT / 'results' / '.test-{}-hardening'.format(os.environ['SOCKET_LAB_RUN'])
    steps = [('lab',), ('tcp',), ('udp', 'ARGS=--timeout 1'), ('capture', 'RESULTS=' + str(results.relative_to(ROOT))),
             ('impair', 'LOSS=10', 'DELAY=1ms'), ('status',), ('heal',)]
    for step in steps:
        run(PROJECT, *step)
    run(PROJECT, 'down')
    shutil.rmtree(results, ignore_errors=True)
    return created.close()


def each(created):
    return [(service, attrs) for service, inspected in created.items() for attrs in inspected]


def test_every_kind_of_container_was_seen(created):
    assert set(ADDED) <= set(created), sorted(created)


def test_no_root_but_the_wire_tools_and_those_with_only_their_one_capability(created):
    for service, attrs in each(created):
        host = attrs['HostConfig']
        assert host['CapDrop'] == ['ALL'] and sorted(host['CapAdd'] or []) == ADDED[service], (service, host['CapAdd'])
        assert attrs['Config']['User'] == ('0:0' if service in WIRE_TOOLS else '10001:10001'), service


def test_read_only_root_no_new_privileges_and_an_init(created):
    for service, attrs in each(created):
        host = attrs['HostConfig']
        assert host['ReadonlyRootfs'] and 'no-new-privileges:true' in host['SecurityOpt'] and host['Init'], service


def test_memory_processes_cpu_and_logs_bounded_by_the_lab_itself(created):
    for service, attrs in each(created):
        host = attrs['HostConfig']
        assert host['Memory'] == 128 << 20 and host['PidsLimit'] == 64 and host['NanoCpus'] == 10 ** 9, service
        assert host['LogConfig'] == {'Type': 'json-file', 'Config': {'max-file': '2', 'max-size': '1m'}}, service


def test_no_docker_socket_and_programs_mounted_read_only(created):
    for service, attrs in each(created):
        for mount in attrs['Mounts']:
            assert 'docker.sock' not in mount['Source'] and not mount['RW'], (service, mount)


def test_no_port_published_unless_asked(created):
    for service, attrs in each(created):
        assert not attrs['HostConfig']['PortBindings'], (service, attrs['HostConfig']['PortBindings'])
