"""Plays make targets the way a person does, in real terminals (pexpect), for the suite's own compose
projects: a lab the user has running is never touched, and the run's sweep removes what they leave."""
import os
import re
import signal

import pexpect
import pytest

from socketlab import catalogue, engine, health, netcat, sweep
from socketlab.paths import ROOT

CATALOGUE = catalogue.load_catalogue()
LESSON = CATALOGUE['tcp-hello-world']['expect']  # what the lesson's exchange prints
UDP = CATALOGUE['udp-typed-reply']  # the lesson's UDP stage, answered by a person typing into nc
UDP_REPLY = next(step['type']['text'] for step in UDP['steps'] if 'type' in step)
# What a person's own lab settings would change, and the state of a make the suite runs under (make
# test): unset for the suite's make commands, which start as a person's would.
USER_SETTINGS = ('PUBLISH', 'SERVER_PORT', 'NC_FLAVOR', 'CAPTURE', 'ARGS', 'COMPOSE', 'LAB_PROJECT', 'LAB_IMAGES',
                 'RESULTS', 'SERVER_IMPAIR', 'NETCAT_IMPAIR', 'IDLE_TIMEOUT', 'MAKELEVEL', 'MAKEFLAGS', 'MFLAGS')


def person_env(**more):
    """The environment a person's make starts with."""
    return {**{k: v for k, v in os.environ.items() if k not in USER_SETTINGS}, **more}


def project_name(suffix=''):
    """A compose project of this suite run; the run's sweep removes what it leaves."""
    return sweep.RUN_PROJECT_PREFIX + os.environ['SOCKET_LAB_RUN'] + suffix


def lab_up(project):
    """A module's own lab (a fixture yields from it): make lab, the project, then make down."""
    run(project, 'lab')
    yield project
    run(project, 'down')


# The longest a make command may go without printing before a test gives up on it: far past need on a
# machine the suite itself loads (a make lab that builds nothing prints within seconds alone).
SILENCE = 120


def make(project, *args, env=None, compose='v2', timeout=SILENCE, cwd=ROOT):
    """A make command in its own terminal, as a person would start it (TIMEOUT: its longest silence), in
    the project (or CWD, a copy of it)."""
    return pexpect.spawn('make', [*args, 'LAB_PROJECT=' + project, 'COMPOSE=' + compose], cwd=str(cwd),
                         env=person_env(**(env or {})), encoding='utf-8', timeout=timeout, dimensions=(24, 200))


def captured(project, results, *args, during=None):
    """make ARGS CAPTURE=1 into RESULTS (a folder inside the project): (its output lines, its exit status,
    the pcap it wrote). DURING: called while it runs (a person answering in make nc)."""
    before = set(results.glob('*.pcap'))
    terminal = make(project, *args, 'CAPTURE=1', 'RESULTS=' + str(results.relative_to(ROOT)))
    if during is not None:
        during()
    status = finish(terminal)
    pcap, = set(results.glob('*.pcap')) - before
    return catalogue.output_lines(terminal.before.replace('\r\n', '\n')), status, pcap


def finish(terminal):
    """Waits for the command's end; returns make's exit status (what it printed is in terminal.before)."""
    terminal.expect(pexpect.EOF)
    terminal.close()
    return terminal.exitstatus


def run(project, *args, env=None, compose='v2', timeout=SILENCE, cwd=ROOT):
    """A make command to its end: (its output lines, its exit status)."""
    terminal = make(project, *args, env=env, compose=compose, timeout=timeout, cwd=cwd)
    status = finish(terminal)
    return lines(terminal.before), status


def edit(folder, path, old, new):
    """A learner's edit of one file of a copy of the project (OLD must be there)."""
    path = os.path.join(folder, path)
    with open(path) as f:
        text = f.read()
    assert old in text
    with open(path, 'w') as f:
        f.write(text.replace(old, new))


def lines(text):
    return catalogue.output_lines(text.replace('\r\n', '\n'))


def container(project, service):
    found = engine.service_container(project, service)
    assert found is not None, '{} of {} is not running'.format(service, project)
    return found


def address(project, service):
    """(network name, IP address) of the service's container."""
    found = container(project, service)
    return engine.network_of(found), engine.address(found)


def wait_received(project, text):
    """Until the nc listener has heard `text` (bounded): a person goes to `make nc` after the client ran."""
    def heard():
        found = engine.service_container(project, 'netcat')
        return found is not None and netcat.received(found) == text
    health.eventually(heard, what='nc never received {!r}'.format(text))


def leftovers(project):
    client = engine.client()
    label = engine.PROJECT_LABEL + '=' + project
    return (client.containers.list(all=True, filters={'label': label}),
            client.networks.list(filters={'label': label}))


class Created:
    """Every container the Engine creates while it is open, as inspected at its creation (events),
    whose labels keep(labels) accepts: {service or name: [inspections]}."""

    def __init__(self, label, keep=lambda labels: True):
        import threading
        self.client = engine.client()
        self.events = self.client.events(decode=True, filters={'type': 'container', 'event': 'create', 'label': label})
        self.found = {}
        self.keep = keep
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    def _watch(self):
        for event in self.events:
            try:
                attrs = self.client.api.inspect_container(event['id'])
            except engine.errors().NotFound:
                continue
            labels = attrs['Config']['Labels'] or {}
            if self.keep(labels):
                key = labels.get(engine.SERVICE_LABEL) or attrs['Name'].lstrip('/')
                self.found.setdefault(key, []).append(attrs)

    def close(self):
        if self.watcher.is_alive():
            self.events.close()
            self.watcher.join(5)
        return self.found


def udp_client_lines(nc_ip):
    """What the lesson's UDP client prints after 'Starting client...' when nc at NC_IP answers."""
    return catalogue.render(UDP['expect']['client'][1:], [], {'netcat_ip': nc_ip})


def server_logs(logs, project):
    """The server's part of make logs's lines, for PROJECT's lab (its lines since the container was made)."""
    start = logs.index('--- server ({}-server-1) ---'.format(project)) + 1
    return logs[start:logs.index('--- what nc received ({}-netcat-1) ---'.format(project))]


def impairments(output):
    """make status's lines of what the server's and nc's networks do."""
    return [line for line in output if line.startswith(('server:', 'netcat:'))]


def answered_udp(project, cwd=ROOT, env=None):
    """make udp answered as a person does it: make nc in a second terminal, the lesson's reply typed.
    Returns (the client's lines after 'Starting client...', nc's address, the client's exit status)."""
    udp = make(project, 'udp', cwd=cwd, env=env)
    try:
        udp.expect_exact('Starting client...\r\n')
        wait_received(project, 'Hello, world')
        nc = make(project, 'nc', cwd=cwd, env=env)
        try:
            nc.expect_exact('Hello, world')
            nc.send(UDP_REPLY.replace('\n', '\r'))  # Enter, as a keyboard sends it
            udp.expect(pexpect.EOF)
        finally:
            nc.close(force=True)
        nc_ip = address(project, 'netcat')[1]
        return lines(udp.before), nc_ip, finish(udp)
    finally:
        udp.close(force=True)


# Stopping a target as a person or a CI job does (tests/test_interrupts.py, tests/test_bench.py).
def ctrl_c(terminal):
    terminal.sendintr()  # the terminal's Ctrl-C: SIGINT to the foreground process group, as a person does


def sigterm(terminal):
    os.killpg(terminal.pid, signal.SIGTERM)  # make and what it runs, as a stopped CI job or `kill -- -PGID`


def sighup(terminal):
    os.killpg(terminal.pid, signal.SIGHUP)  # make and what it runs, as a closed terminal does


SIGNALS = [pytest.param(ctrl_c, id='ctrl-c'), pytest.param(sigterm, id='sigterm')]
ALL_SIGNALS = [*SIGNALS, pytest.param(sighup, id='sighup')]


def containers(predicate):
    """The Engine's containers whose labels PREDICATE accepts."""
    return [c for c in engine.client().containers.list(all=True, sparse=True) if predicate(c.attrs.get('Labels') or {})]


def interrupt(terminal, ready, stop, what, timeout=health.WAIT):
    """Waits for ready() (a real sign the target has started something), stops it, waits for its end."""
    try:
        health.eventually(ready, timeout=timeout, what=what)
        stop(terminal)
        try:
            terminal.expect(pexpect.EOF)
        except pexpect.TIMEOUT:  # all it printed, a clean-up's own account of where it was stuck included
            raise AssertionError('stopped, it did not end within {} s of silence; it printed:\n{}'.format(
                terminal.timeout, terminal.before)) from None
    finally:
        terminal.close(force=True)
    return terminal.exitstatus, terminal.signalstatus


# A transcript of the docs against this run's (tests/test_docs.py, tests/test_check.py): the run's own
# lab names, addresses, a client's port, make check's time and results folder put in for the docs'.
ADDRESS = re.compile(r'\b\d{1,3}(?:\.\d{1,3}){3}\b')
PORT = re.compile(r"(\('<address>', )\d{1,5}\)")
CHECK_RUN = re.compile(r'in \d+\.\d s\. Results in \S+:')


def same(lines, project):
    """Lines with this run's own values made the docs': the lab's names, addresses, a client's port."""
    shown = [ADDRESS.sub('<address>', line.replace(project + '-', 'socket-lab-')) for line in lines]
    return [PORT.sub(r'\1<port>)', line) for line in shown]


def checked_the_same(lines):
    """make check's lines made the guide's: its time and results folder, addresses and a client's port."""
    return same([CHECK_RUN.sub('in <seconds> s. Results in <folder>:', line) for line in lines], 'socket-lab')
