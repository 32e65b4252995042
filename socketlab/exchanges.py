"""The catalogue's container backend (socketlab.catalogue says what a backend gives): each exchange
of tests/exchanges.yaml played on a bridge network of its own; the test suite runs each as a test,
`make exchange NAME=...` replays one for a person.

Each role is a container of a compose service, as compose itself describes it (`compose config`,
its normalised model: image, user, read-only root, capabilities, limits, mounts, healthcheck), made by
the lab's one builder (socketlab.containers) on a fresh network, waited for with its wait strategy
(a server's start line, nc's healthcheck), and typed into through its terminal (pexpect over the
attach socket), as a person would.
"""
import sys
import uuid

import pexpect.fdpexpect

from . import containers, engine, health, sweep, tls
from .catalogue import Screen, load_catalogue, play, reports, transcripts
from .paths import LESSON_FILES
from .settings import SERVER_PROGRAMS
from .topology import mount, mounts as service_mounts, normalised_services

# The program a role's `file:` (one of tests/lesson/) stands in for, by kind.
PROGRAMS = {'server': '/app/ServerPython.py', 'client': '/app/ClientPython.py', 'client-loop': '/app/ClientPython.py',
            'menu': '/app/ClientPython.py'}
# kind -> (compose service, network alias)
KINDS = {'server': ('server', 'server'), 'netcat': ('netcat', 'netcat'), 'nc-client': ('netcat', None),
         'client': ('client', None), 'client-loop': ('client', None), 'menu': ('client', None)}
CLIENTS = ('client', 'client-loop', 'nc-client', 'menu')  # the kinds that reach a server or nc
# A client-loop role: the next lesson's `for i in {1..100}; do python3 ClientPython.py; done`; a menu role:
# lessons 6-7's client with its menu, typed into, in a folder with the lesson's test.log (socketlab.client).
from .client import LOOP_ENTRYPOINT, MENU_ENTRYPOINT  # noqa: E402
# A client's program waits for a line on its stdin, then runs with no stdin (as a container without -i):
# the Engine forgets a container's address once it has exited, and the lines name it ({alice_ip}).
HOLD = ['sh', '-c', 'read -r _; exec "$@" </dev/null', 'held']
# A server is ready when it printed its start line (it prints it once listening), or a line saying why it
# stopped (lesson 9's C server: its own start line, a line of perror's, or the compiler's error).
START_LINE = 'Starting server on|Starting record server on|ServerPython: error|Server socket initialized and listening on port|Failed to |error:'


def raw(stream):
    """The socket of an attach stream (the docker SDK wraps it for HTTP)."""
    return getattr(stream, '_sock', stream)


def release(container):
    """Lets a held container's program run (HOLD): the line it waits for, on its stdin."""
    stream = container.attach_socket(params={'stdin': 1, 'stream': 1})
    try:
        raw(stream).sendall(b'\n')
    finally:
        stream.close()


class StartLine(containers.LogLine):
    """A server's start line (START_LINE), said in the lab's words when it never comes: still running
    and silent, or exited without it."""

    def __init__(self):
        super().__init__(START_LINE)

    def wait_until_ready(self, container):
        try:
            return super().wait_until_ready(container)
        except health.StoppedError:  # its exit status and the last line of its stderr say why
            container.reload()
            state = container.attrs.get('State', {})
            errors = [line for line in container.logs(stdout=False).decode(errors='replace').splitlines() if line.strip()]
            raise health.NotYet('the server exited (status {}{}) before printing its start line{}'.format(
                state.get('ExitCode'), ', out of memory' if state.get('OOMKilled') else '',
                '; server: ' + errors[-1][:200] if errors else '')) from None
        except health.NotYet:  # still running, and never printed it
            out, err = (container.logs(stdout=stdout, stderr=not stdout).decode(errors='replace').strip()[-200:]
                        for stdout in (True, False))
            raise AssertionError('the server never printed its start line within {:g} s (it printed: {!r}{})'.format(
                self.timeout, out, ', on stderr {!r}'.format(err) if err else '')) from None


class Terminal(Screen):
    """What a person sees in a container's terminal (its attach stream) and what they type into it."""

    def __init__(self, container):
        super().__init__()
        self._socket = container.attach_socket(params={'stdin': 1, 'stdout': 1, 'stderr': 1, 'stream': 1})
        self._raw = raw(self._socket)
        self.session = pexpect.fdpexpect.fdspawn(self._raw.fileno(), encoding='utf-8', codec_errors='replace',
                                                 timeout=health.WAIT)

    def _chunk(self, timeout):
        try:
            return self.session.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return ''
        except pexpect.EOF:
            return None

    def type(self, text):
        self.session.send(text)

    def close(self):
        try:
            self._socket.close()
        except OSError:
            pass


class Role:
    def __init__(self, name, spec, container, terminal=None):
        self.name, self.spec, self.docker, self.terminal = name, spec, container, terminal
        self.ip = None

    def stdout(self):
        if self.terminal is not None:
            return self.terminal.text
        return self.docker.logs(stdout=True, stderr=False).decode('utf-8', 'replace')

    def stderr(self):
        return '' if self.terminal is not None else self.docker.logs(stdout=False, stderr=True).decode('utf-8', 'replace')

    def signal(self, name):
        self.docker.kill(signal=name)

    def wait_exit(self, timeout=health.WAIT):
        """Its exit status, once it exits; AssertionError if it is still running after TIMEOUT seconds."""
        import requests
        try:
            return self.docker.wait(timeout=timeout)['StatusCode']
        except requests.exceptions.ConnectionError:  # the Engine's wait, cut off by the SDK's timeout
            raise AssertionError('{} did not exit within {:g} s'.format(self.name, timeout)) from None


class Lab:
    """A fresh user-defined bridge network and the roles started on it, all labelled with the run.
    WIRE: the exchange is recorded (tcpdump beside the host the first client reaches), for packets()."""

    def __init__(self, target, run, wire=False):
        self.target, self.settings, self.run = target, target.settings, run
        self.labels = {engine.RUN_LABEL: run}
        self.network = engine.client().networks.create('socket-lab-exchange-' + uuid.uuid4().hex[:12], driver='bridge',
                                                       labels=self.labels)
        self.roles = {}
        self.wire, self.recorder = wire, None

    def start(self, name, spec):
        kind = spec['kind']
        if self.wire and self.recorder is None and kind in CLIENTS:
            self.recorder = self._recorder(spec)
        service_name, alias = KINDS[kind]
        service = normalised_services(self.target)[service_name]
        changes = {}
        if kind == 'server':  # which server: the lessons' in Python, lesson 9's in C, the lab's RecordServer
            program, entrypoint, _ = SERVER_PROGRAMS[spec.get('server', 'python')]
            changes.update(image=self.settings.image(program), entrypoint=list(entrypoint))
        # compose.yaml's environment as compose resolved it with the lab's defaults; the catalogue says what differs.
        env = {}
        command = list(spec.get('args', service.get('command') or []))
        entrypoint = changes.pop('entrypoint', service.get('entrypoint'))
        if kind == 'netcat':
            env.update(NC_FLAVOR=spec.get('flavor', 'openbsd'), NC_MODE=spec.get('mode', 'udp'))
        if kind == 'nc-client':
            entrypoint = ['nc.openbsd']
            command = ['-N', 'server', str(spec.get('port', service['environment']['NC_PORT']))]
        if kind == 'client-loop':
            entrypoint = LOOP_ENTRYPOINT
            command = [str(spec['count'])]
        if kind == 'menu':  # typed into: a terminal of its own
            entrypoint = MENU_ENTRYPOINT
            changes.update(tty=True, stdin_open=True)
            command = []
        if kind == 'server' and 'stage' in spec:
            env['SERVER_STAGE'] = spec['stage']
            changes['working_dir'] = tls.server_folder(spec['stage'])  # the certificate pair its stage opens
        mounts = service_mounts(service)
        if kind in ('server', 'client'):  # /tls: this lab's certificates folder (lesson 7), not the user's lab's
            mounts = [self._certificates(spec) if mount['Target'] == '/tls' else mount for mount in mounts]
        if 'entrypoint' in spec:  # a test's own program in a role's image (tests/test_robustness.py)
            entrypoint = spec['entrypoint']
        env.update({k: str(v) for k, v in (spec.get('env') or {}).items()})
        if 'file' in spec:  # the lesson's program as printed, in place of the lab's
            target = '/app/ServerC.c' if spec.get('server') == 'c' else PROGRAMS[kind]
            mounts.append(mount(target, str(LESSON_FILES / spec['file']), read_only=True))
        beside = self.roles[spec['beside']] if 'beside' in spec else None
        if beside is not None:  # on that role's host (its network namespace), as a lesson's second terminal
            changes['network_mode'] = 'container:' + beside.docker.id
            if kind == 'nc-client':
                command = ['-N', '127.0.0.1', command[-1]]
        # Its address is read before its program runs (a short client may have exited by then); one in a
        # terminal waits for what is typed, one beside another has that one's address.
        tty = changes.get('tty', service.get('tty', False))  # nc's and the menu's: a terminal, typed into
        held = kind in CLIENTS and beside is None and not tty
        if held:
            entrypoint = [*HOLD, *entrypoint]
            changes['stdin_open'] = True
        container = containers.create(service, 'socket-lab-{}-{}-{}'.format(self.run, name, uuid.uuid4().hex[:8]), command,
                                      environment=env, labels=self.labels, network=None if beside else self.network.name,
                                      aliases=[alias] if alias and beside is None else [], entrypoint=entrypoint,
                                      mounts=mounts, **changes)
        containers.start(container, StartLine() if kind == 'server' else None)
        terminal = Terminal(container) if tty else None
        role = self.roles[name] = Role(name, spec, container, terminal)
        role.docker.reload()
        role.ip = '127.0.0.1' if beside else engine.address(role.docker, self.network.name)
        if held:
            release(role.docker)
        if kind == 'netcat':
            health.wait_healthy(role.docker)
        return role

    def _certificates(self, spec):
        """The /tls mount of this run's own certificates folder; the certificates made first (once per
        run) when the role speaks TLS: a TLS stage, the client's --tls, a program that imports ssl, or tls: true."""
        project = sweep.RUN_PROJECT_PREFIX + self.run + '-catalogue-certificates'  # no lab's name; the run's sweep removes it
        path = LESSON_FILES / spec['file'] if 'file' in spec else None
        if tls.needed(spec.get('stage', ''), path) or '--tls' in spec.get('args', ()) or spec.get('tls'):
            tls.ensure(self.target.with_settings(project=project))
        return mount('/tls', str(tls.folder(project)), read_only=True)

    def _recorder(self, spec):
        """tcpdump (compose's capture-server service, NET_RAW) in the network namespace of the host the
        client is about to reach: its loopback when the client runs beside it, else the lab network's
        interface. None when no such host runs."""
        hosts = [role for role in self.roles.values() if role.spec['kind'] == 'server'] or \
            [role for role in self.roles.values() if role.spec['kind'] == 'netcat']
        peer = self.roles[spec['beside']] if 'beside' in spec else (hosts[0] if hosts else None)
        if peer is None:
            return None
        service = normalised_services(self.target)['capture-server']
        command = ['-i', 'lo' if 'beside' in spec else 'eth0', 'port', str(self.settings.server_port)]  # compose.yaml's flags
        container = containers.create(service, 'socket-lab-{}-recorder-{}'.format(self.run, uuid.uuid4().hex[:8]), command,
                                      labels=self.labels, network_mode='container:' + peer.docker.id)
        return containers.start(container, containers.LogLine('listening on'))

    def packets(self):
        """What the recorder saw so far, as socketlab.wire.ladder reads it; None when nothing was recorded."""
        if self.recorder is None:
            return None
        import io
        from .wire import ladder
        data = self.recorder.exec_run(['cat', '/tmp/capture.pcap']).output
        try:
            return ladder.read_packets(io.BytesIO(data), self.settings.server_port)
        except Exception:  # noqa: BLE001 - a capture cut short (its last packet half written) says nothing
            return None

    def values(self):
        return {name + '_ip': role.ip for name, role in self.roles.items()}

    def queued(self, at, source, bytes):
        """Whether AT's kernel holds BYTES bytes from SOURCE's address, received and not yet read by the
        program (ss's Recv-Q): the connection made, the data sent, and the program has not taken it."""
        ss = self.roles[at].docker.exec_run(['ss', '-Htn', 'state', 'established']).output.decode()
        return any(line.split()[0] == str(bytes) and line.split()[3].startswith(source.ip + ':') for line in ss.splitlines())

    def close(self):
        for role in self.roles.values():
            if role.terminal:
                role.terminal.close()
            containers.remove(role.docker)
        if self.recorder is not None:
            containers.remove(self.recorder)
        self.network.remove()


def replay(target, name, run):
    """make exchange NAME=...: plays one exchange and prints each role's transcript beside the catalogue."""
    catalogue = load_catalogue()
    if name not in catalogue:
        out = []
        if name:
            out.append('unknown exchange {!r}: make exchange NAME=<name>, one of:'.format(name))
        else:
            out.append('make exchange NAME=<name> replays one exchange of tests/exchanges.yaml:')
        out += ['  {:32} {}'.format(n, e['stage']) for n, e in catalogue.items()]
        print('\n'.join(out), file=sys.stderr if name else sys.stdout)
        return 2 if name else 0
    exchange = catalogue[name]
    print('# {}: {}'.format(exchange['name'], exchange['stage']))
    lab = Lab(target, run)
    try:
        play(exchange, lab)
        ok = True
        for key, (actual, expected) in transcripts(exchange, lab).items():
            print('\n--- {} ---'.format(key))
            shown = ['{}  x{}'.format(k, v) for k, v in actual.items()] if isinstance(actual, dict) else actual
            print('\n'.join(shown)) if shown else None
            if actual != expected:
                ok = False
                print('!!! expected:')
                print('\n'.join(['{}  x{}'.format(k, v) for k, v in expected.items()] if isinstance(expected, dict) else expected))
        for key, line in reports(exchange, lab).items():
            print('\n--- {} (varies from run to run) ---\n{}'.format(key, line))
        print('\n{}'.format('as the lesson shows' if ok else 'DIFFERS from the catalogue'))
        return 0 if ok else 1
    finally:
        lab.close()
