"""Plays the exchanges of tests/exchanges.yaml on a real bridge network, with testcontainers.

Used by the test suite and, for a person, by `make exchange NAME=...` (python3 tests/labkit.py NAME).
The topology facts (images, hardening, healthchecks) come from compose.yaml, the exchanges from the
catalogue: this file only knows how to start a role, type into it and read what it printed.
"""
import os
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import docker
import yaml
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / 'tests' / 'exchanges.yaml'
COMPOSE_FILE = ROOT / 'compose.yaml'
# Every container and network the suite makes carries this label, so teardown can sweep them.
SUITE_LABEL = 'socket-lab.suite'
# One id per suite run, shared by pytest-xdist's workers (they inherit the environment).
RUN_ID = os.environ.setdefault('SOCKET_LAB_RUN', uuid.uuid4().hex[:8])
WAIT = 30.0  # seconds: the most any single wait in an exchange may take
PORT_PLACEHOLDER = '{ephemeral_port}'
COMPOSE_PROJECT_LABEL = 'com.docker.compose.project'
# Compose projects the suite runs (tests/makeplay.py) are named this + RUN_ID (+ a suffix).
TEST_PROJECT_PREFIX = 'socket-lab-test-'


def load_catalogue(path=CATALOGUE):
    return {e['name']: e for e in yaml.safe_load(Path(path).read_text())['exchanges']}


def load_compose(path=COMPOSE_FILE):
    return yaml.safe_load(Path(path).read_text())


def interpolate(text, env):
    """Fills compose's ${NAME:-default} forms from env."""
    return re.sub(r'\$\{(\w+):-([^}]*)\}', lambda m: env.get(m.group(1), m.group(2)), text)


def docker_kwargs(service):
    """The hardening compose.yaml gives a service, as docker SDK arguments."""
    tmpfs = {}
    for entry in service.get('tmpfs', []):
        path, _, options = entry.partition(':')
        tmpfs[path] = options
    return dict(
        user=service.get('user'), read_only=service.get('read_only', False), tmpfs=tmpfs,
        cap_drop=service.get('cap_drop'), cap_add=service.get('cap_add'),
        security_opt=service.get('security_opt'), mem_limit=service.get('mem_limit'),
        pids_limit=service.get('pids_limit'), init=service.get('init', False),
        stdin_open=service.get('stdin_open', False), tty=service.get('tty', False),
    )


def output_lines(text):
    """A role's output as lines; a terminal's \\r\\n counts as \\n."""
    text = text.replace('\r\n', '\n')
    return text.split('\n')[:-1] if text.endswith('\n') else ([text] if text else [])


def line_pattern(expected, values):
    parts = expected.split(PORT_PLACEHOLDER)
    return re.compile(r'(\d{1,5})'.join(re.escape(part.format(**values)) for part in parts))


def render(expected_lines, actual_lines, values):
    """The expected lines with placeholders filled. A line that matches its actual line (the
    ephemeral port being any number) is given as that actual line, so a failing assertion's diff
    shows only the lines that really differ."""
    rendered = []
    for i, expected in enumerate(expected_lines):
        actual = actual_lines[i] if i < len(actual_lines) else None
        if actual is not None and line_pattern(expected, values).fullmatch(actual):
            rendered.append(actual)
        else:
            rendered.append(expected.replace(PORT_PLACEHOLDER, '<port>').format(**values))
    return rendered


class Terminal:
    """What a person sees in a container's terminal: its attach stream, read as it comes, and
    what they type into it."""

    def __init__(self, container):
        self._socket = container.attach_socket(params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
        self._raw = self._socket._sock
        self._data = b''
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = self._raw.recv(4096)
            except OSError:
                chunk = b''
            with self._changed:
                if not chunk:
                    self._closed = True
                    self._changed.notify_all()
                    return
                self._data += chunk
                self._changed.notify_all()

    @property
    def text(self):
        return self._data.decode('utf-8', 'replace').replace('\r\n', '\n')

    def wait_for(self, text, timeout=WAIT):
        with self._changed:
            if not self._changed.wait_for(lambda: text in self.text or getattr(self, '_closed', False), timeout):
                raise TimeoutError('{!r} did not show within {} s; the terminal shows {!r}'.format(text, timeout, self.text))
            if text not in self.text:
                raise AssertionError('the terminal closed before showing {!r}; it shows {!r}'.format(text, self.text))

    def type(self, text):
        self._raw.sendall(text.encode())

    def close(self):
        try:
            self._socket.close()
        except OSError:
            pass


class Role:
    def __init__(self, name, spec, container, terminal=None):
        self.name, self.spec, self.container, self.terminal = name, spec, container, terminal

    @property
    def docker(self):
        return self.container.get_wrapped_container()

    def read_ip(self, network):
        """Its address on the network, read while it runs (an exited container has none)."""
        self.docker.reload()
        self.ip = self.docker.attrs['NetworkSettings']['Networks'][network.name]['IPAddress']

    def stdout(self):
        if self.terminal is not None:
            return self.terminal.text
        return self.docker.logs(stdout=True, stderr=False).decode('utf-8', 'replace')

    def stderr(self):
        if self.terminal is not None:
            return ''
        return self.docker.logs(stdout=False, stderr=True).decode('utf-8', 'replace')

    def wait_exit(self, timeout=WAIT):
        return self.docker.wait(timeout=timeout)['StatusCode']


class Lab:
    """A fresh user-defined bridge network and the roles started on it, all labelled for the sweep."""

    KINDS = {  # kind -> compose service, network alias
        'server': ('server', 'server'),
        'netcat': ('netcat', 'netcat'),
        'nc-client': ('netcat', None),
        'client': ('client', None),
    }

    def __init__(self):
        self.compose = load_compose()
        self.labels = {SUITE_LABEL: RUN_ID}
        self.network = Network(docker_network_kw={'labels': self.labels, 'driver': 'bridge'}).create()
        self.roles = {}

    def service(self, kind):
        return self.compose['services'][self.KINDS[kind][0]]

    def start(self, name, spec):
        kind = spec['kind']
        service = self.service(kind)
        # compose.yaml's defaults, not the caller's environment: the catalogue says what differs.
        env = {k: interpolate(str(v), {}) for k, v in (service.get('environment') or {}).items()}
        port = '12345'
        if kind == 'netcat':
            env.update(NC_FLAVOR=spec.get('flavor', 'openbsd'), NC_MODE=spec.get('mode', 'udp'))
            port = env['NC_PORT']
        env.update({k: str(v) for k, v in (spec.get('env') or {}).items()})
        kwargs = docker_kwargs(service)
        command = list(spec.get('args', []))
        if kind == 'nc-client':
            kwargs['entrypoint'] = ['nc.openbsd']
            command = ['-N', 'server', spec.get('port', port)]
        if 'entrypoint' in spec:  # a test's own program in a role's image (tests/test_robustness.py)
            kwargs['entrypoint'] = spec['entrypoint']
        tmpfs = kwargs.pop('tmpfs')
        container = DockerContainer(service['image'], env=env, command=command,
                                    network=self.network, **{**kwargs, 'labels': self.labels})
        container.tmpfs.update(tmpfs)
        alias = self.KINDS[kind][1]
        if alias:
            container.with_network_aliases(alias)
        container.start()
        terminal = Terminal(container.get_wrapped_container()) if kwargs['tty'] else None
        role = self.roles[name] = Role(name, spec, container, terminal)
        role.read_ip(self.network)
        if kind == 'server':
            self._wait_server(role)
        elif kind == 'netcat':
            self._wait_healthy(role, service, env)
        return role

    def _wait_server(self, role):
        """Ready when it printed its start line (it prints it once listening), or when it exited."""
        deadline = time.monotonic() + WAIT
        while 'Starting server on' not in role.stdout():
            role.docker.reload()
            if role.docker.status == 'exited':
                return
            if time.monotonic() > deadline:
                raise TimeoutError('the server did not start within {} s: {!r}'.format(WAIT, role.stdout()))
            time.sleep(0.05)

    def _wait_healthy(self, role, service, env):
        """Runs the service's compose healthcheck until it passes (its own interval is too slow)."""
        test = service['healthcheck']['test']
        command = ['sh', '-c', interpolate(test[1], env)] if test[0] == 'CMD-SHELL' else test[1:]
        deadline = time.monotonic() + WAIT
        while role.docker.exec_run(command).exit_code != 0:
            if time.monotonic() > deadline:
                raise TimeoutError('{} was not healthy within {} s'.format(role.name, WAIT))
            time.sleep(0.05)

    def values(self):
        return {name + '_ip': role.ip for name, role in self.roles.items()}

    def close(self):
        for role in self.roles.values():
            if role.terminal:
                role.terminal.close()
            try:
                role.container.stop()
            except docker.errors.NotFound:
                pass
        self.network.remove()


def play(exchange, lab):
    """Plays an exchange's steps on a lab; returns nothing, raises on a step that does not happen."""
    for step in exchange['steps']:
        if 'start' in step:
            name = step['start']
            lab.start(name, exchange['roles'][name])
        elif 'type' in step:
            typing = step['type']
            terminal = lab.roles[typing['into']].terminal
            if typing.get('after'):
                terminal.wait_for(typing['after'])
            terminal.type(typing['text'])
        elif 'exit' in step:
            role = lab.roles[step['exit']['of']]
            code = role.wait_exit()
            if code != step['exit']['code']:
                raise AssertionError('{} exited with {}, not {}: stdout {!r}, stderr {!r}'.format(
                    role.name, code, step['exit']['code'], role.stdout(), role.stderr()))
        else:
            raise ValueError('unknown step {!r}'.format(step))


def transcripts(exchange, lab, settle=5.0):
    """Each expected stream as (actual lines, expected lines rendered). Output still on its way
    (docker's log copier, the attach stream) is waited for, at most `settle` seconds."""
    values = lab.values()
    deadline = time.monotonic() + settle
    while True:
        result = {}
        for key, expected in exchange['expect'].items():
            role = lab.roles[key.removesuffix('_stderr')]
            text = role.stderr() if key.endswith('_stderr') else role.stdout()
            actual = output_lines(text)
            result[key] = (actual, render(expected, actual, values))
        if all(a == e for a, e in result.values()) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def sweep(client=None, run=None):
    """Removes every container and network the suite made (after a pass, a failure or Ctrl-C): those
    it labelled, and those of its own compose projects; only run `run`'s when given. A lab the user
    runs is never touched."""
    client = client or docker.from_env()

    def made_by_suite(labels):
        labels = labels or {}
        project = labels.get(COMPOSE_PROJECT_LABEL, '')
        if run is not None:
            return labels.get(SUITE_LABEL) == run or project.startswith(TEST_PROJECT_PREFIX + run)
        return SUITE_LABEL in labels or project.startswith(TEST_PROJECT_PREFIX)

    for container in client.containers.list(all=True):
        if made_by_suite(container.labels):
            container.remove(force=True)
    for network in client.networks.list():
        if made_by_suite(network.attrs.get('Labels')):
            network.remove()


def main(argv):
    if argv == ['--sweep']:  # `make test` after pytest, whatever its outcome
        sweep()
        return 0
    catalogue = load_catalogue()
    if len(argv) != 1 or argv[0] not in catalogue:
        out = sys.stdout if not argv else sys.stderr  # no NAME: the list is the answer
        if argv:
            print('unknown exchange {!r}: make exchange NAME=<name>, one of:'.format(' '.join(argv)), file=out)
        else:
            print('make exchange NAME=<name> replays one exchange of tests/exchanges.yaml:', file=out)
        for name, exchange in catalogue.items():
            print('  {:32} {}'.format(name, exchange['stage']), file=out)
        return 2 if argv else 0
    exchange = catalogue[argv[0]]
    print('# {}: {}'.format(exchange['name'], exchange['stage']))
    lab = Lab()
    try:
        play(exchange, lab)
        ok = True
        for key, (actual, expected) in transcripts(exchange, lab).items():
            print('\n--- {} ---'.format(key))
            for line in actual:
                print(line)
            if actual != expected:
                ok = False
                print('!!! expected:')
                for line in expected:
                    print(line)
        print('\n{}'.format('as the lesson shows' if ok else 'DIFFERS from the catalogue'))
        return 0 if ok else 1
    finally:
        lab.close()


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        if sys.argv[1:] != ['--sweep']:
            sweep(run=RUN_ID)
