"""Plays make targets the way a person does, in real terminals (pexpect), for the suite's own compose
projects (tests/test_make.py, tests/test_wire.py): a lab the user has running is never touched."""
import os
import time

import docker
import pexpect

import labkit


def project_name(suffix=''):
    """A compose project of this suite run; labkit.sweep removes what it leaves."""
    return labkit.TEST_PROJECT_PREFIX + labkit.RUN_ID + suffix


def make(project, *args, env=None):
    """A make command in its own terminal, as a person would start it (the user's lab settings unset)."""
    base = {k: v for k, v in os.environ.items() if k not in ('PUBLISH', 'SERVER_PORT', 'NC_FLAVOR', 'CAPTURE')}
    return pexpect.spawn('make', [*args, 'LAB_PROJECT=' + project], cwd=str(labkit.ROOT), env={**base, **(env or {})},
                         encoding='utf-8', timeout=labkit.WAIT, dimensions=(24, 200))


def finish(terminal):
    """Waits for the command's end; returns make's exit status (what it printed is in terminal.before)."""
    terminal.expect(pexpect.EOF)
    terminal.close()
    return terminal.exitstatus


def run(project, *args, env=None):
    """A make command to its end: (its output lines, its exit status)."""
    terminal = make(project, *args, env=env)
    status = finish(terminal)
    return lines(terminal.before), status


def lines(text):
    return labkit.output_lines(text.replace('\r\n', '\n'))


def container(client, project, service):
    found = client.containers.list(filters={'label': ['com.docker.compose.project=' + project,
                                                      'com.docker.compose.service=' + service]})
    assert len(found) == 1, found
    return found[0]


def address(client, project, service):
    """(network name, IP address) of the service's container."""
    (network, settings), = container(client, project, service).attrs['NetworkSettings']['Networks'].items()
    return network, settings['IPAddress']


def wait_received(client, project, text):
    """Until the nc listener has heard `text` (bounded): a person goes to `make nc` after the client ran."""
    deadline = time.monotonic() + labkit.WAIT
    while True:
        try:
            if container(client, project, 'netcat').exec_run(['cat', '/tmp/nc-received']).output.decode() == text:
                return
        except (AssertionError, docker.errors.APIError):
            pass  # make udp is still replacing a used listener with a fresh one
        assert time.monotonic() < deadline, 'nc never received {!r}'.format(text)
        time.sleep(0.05)


def leftovers(client, project):
    label = 'com.docker.compose.project=' + project
    return (client.containers.list(all=True, filters={'label': label}),
            client.networks.list(filters={'label': label}))


def remove_project(client, project):
    """Removes what `make down` may have left of one of the suite's projects (after a failure, say);
    never another's: pytest-xdist's workers run theirs at the same time."""
    containers, networks = leftovers(client, project)
    for found in containers:
        found.remove(force=True)
    for network in networks:
        network.remove()
