"""The catalogue's backend where there is no Docker (Gradescope gives each submission one container and
no Docker): each role a process on this host, all of them talking over its loopback, as the lessons run
their programs in terminals of one machine. socketlab.catalogue says what a backend gives.

Only exchanges whose roles run on one host play here: the lessons' own programs (`file:`, `beside:`),
which talk to 'localhost'. A role's program runs with bounds of its own (CPU seconds, memory, file
size, processes) and each step with the catalogue's time bounds; close() kills what is left.
"""
import os
import pty
import resource
import select
import shutil
import signal
import subprocess
import tempfile

from pathlib import Path

from . import health, tls
from .catalogue import Screen
from .learner import SERVER_C_FILE
from .paths import LESSON_FILES, ROOT

REFERENCE = {'server': ROOT / 'server' / 'ServerPython.py', 'client': ROOT / 'client' / 'ClientPython.py',
             'client-loop': ROOT / 'client' / 'ClientPython.py', 'menu': ROOT / 'client' / 'ClientPython.py'}
PORT = '12345'
# The nc listener of each flavour and mode (netcat/listen.sh's table), and nc as a TCP client.
LISTENERS = {('openbsd', 'udp'): ['nc.openbsd', '-l', '-u', PORT], ('openbsd', 'tcp'): ['nc.openbsd', '-l', PORT],
             ('traditional', 'udp'): ['nc.traditional', '-l', '-u', '-p', PORT],
             ('traditional', 'tcp'): ['nc.traditional', '-l', '-p', PORT],
             ('ncat', 'udp'): ['ncat', '-l', '-u', PORT], ('ncat', 'tcp'): ['ncat', '-l', PORT]}
# The lesson's loop of clients, `for i in {1..100}; do python3 ClientPython.py; done`, the file as $2.
LOOP = 'for ((i = 1; i <= $1; i++)); do python3 "$2"; done'
# What each program may take (a learner's code is untrusted): CPU seconds, bytes of memory and of a
# file it writes, processes of its user.
LIMITS = {resource.RLIMIT_CPU: 120, resource.RLIMIT_AS: 1 << 30, resource.RLIMIT_FSIZE: 16 << 20,
          resource.RLIMIT_NPROC: 256}


def _bounded():
    os.setsid()  # a process group of its own: close() ends it and whatever it started
    for limit, value in LIMITS.items():
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


class PtyTerminal(Screen):
    """A program in a terminal of its own (a pty), as a person runs nc: what it shows, what is typed."""

    def __init__(self, argv, env, cwd=None):
        super().__init__()
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env, cwd=cwd, preexec_fn=_bounded)
        os.close(child)

    def _chunk(self, timeout):
        if not select.select([self.fd], [], [], timeout)[0]:
            return ''
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the program has gone: its side of the pty is closed
            return None
        return data.decode(errors='replace') if data else None

    def type(self, text):
        os.write(self.fd, text.encode())

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass


class Process:
    """One role: a program on this host, its output kept in files of the lab's folder."""

    def __init__(self, name, spec, process, folder, terminal=None):
        self.name, self.spec, self.process, self.terminal = name, spec, process, terminal
        self.ip = '127.0.0.1'
        self._out, self._err = (os.path.join(folder, name + suffix) for suffix in ('.out', '.err'))

    def stdout(self):
        if self.terminal is not None:
            return self.terminal.text
        return self._read(self._out)

    def stderr(self):
        return '' if self.terminal is not None else self._read(self._err)

    @staticmethod
    def _read(path):
        with open(path, 'rb') as f:
            return f.read(1 << 20).decode('utf-8', 'replace')

    def wait_exit(self, timeout=health.WAIT):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError('{} did not exit within {:g} s'.format(self.name, timeout)) from None

    def signal(self, name):
        self.process.send_signal(getattr(signal, name))

    def end(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.terminal is not None:
            self.terminal.close()


def _bound(port, tables):
    """Whether a socket of this host is bound to PORT (listening, or nc talking to its one peer)."""
    for table in tables:
        try:
            with open(table) as f:
                if any(line.split()[1].endswith(':{:04X}'.format(int(port))) for line in list(f)[1:]):
                    return True
        except OSError:
            continue
    return False


class HostLab:
    """The roles of one exchange as processes of this host (target, run and wire are the container
    backend's: here they change nothing; nothing is recorded, as capturing needs a privilege)."""

    def __init__(self, target=None, run=None, wire=False):
        self.folder = tempfile.mkdtemp(prefix='socket-lab-onehost-')
        self.roles = {}

    def packets(self):
        """Nothing recorded (capturing needs a privilege): the backends' packets(), as the container one's."""
        return None

    def _certificates(self):
        """Lesson 7's certificates (socketlab/certificates.sh, with this host's openssl), made once in this
        lab's folder: tls/lesson and tls/lab hold the pairs a server opens by relative path."""
        path = os.path.join(self.folder, 'tls')
        if not os.path.exists(os.path.join(path, 'lab', 'server.crt')):
            os.makedirs(path, exist_ok=True)
            subprocess.run(['sh', str(ROOT / 'socketlab' / 'certificates.sh'), path], check=True, capture_output=True,
                           timeout=health.WAIT, cwd=self.folder)
        return path

    def _program(self, spec):
        return str(LESSON_FILES / spec['file']) if 'file' in spec else str(REFERENCE[spec['kind']])

    def start(self, name, spec):
        kind = spec['kind']
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'LANG': 'C.UTF-8', 'PYTHONUNBUFFERED': '1',
               'PYTHONDONTWRITEBYTECODE': '1', 'HOME': self.folder, 'IDLE_TIMEOUT': '300',
               'SERVER_STAGE': spec.get('stage', 'simple'), 'SERVER_NAME': 'localhost', 'SERVER_PORT': PORT,
               **{k: str(v) for k, v in (spec.get('env') or {}).items()}}
        terminal = None
        if kind in ('netcat', 'nc-client'):
            argv = (LISTENERS[(spec.get('flavor', 'openbsd'), spec.get('mode', 'udp'))] if kind == 'netcat'
                    else ['nc.openbsd', '-N', '127.0.0.1', str(spec.get('port', PORT))])
            terminal = PtyTerminal(argv, env)
            process = terminal.process
        elif kind == 'menu':  # lessons 6-7's menu, typed into, in a folder with the lab's copy of test.log
            for log in (ROOT / 'client').glob('*.log'):
                shutil.copy(log, self.folder)
            terminal = PtyTerminal(['python3', self._program(spec)], {**env, 'PYTHONPATH': str(ROOT / 'client')}, cwd=self.folder)
            process = terminal.process
        else:
            if 'entrypoint' in spec:
                argv = list(spec['entrypoint'])
            elif kind == 'client-loop':
                argv = ['bash', '-c', LOOP, 'loop', str(spec['count']), self._program(spec)]
            elif kind == 'server' and spec.get('server') == 'c':  # lesson 9: built as the lesson builds it, then run line-buffered
                argv = ['sh', '-c', 'gcc $SERVER_CFLAGS -o "$1/ServerC" -lc "$2" && exec stdbuf -oL "$1/ServerC"', 'build', self.folder,
                        str(LESSON_FILES / spec['file']) if 'file' in spec else str(SERVER_C_FILE)]
            elif kind == 'server' and spec.get('server') == 'records':  # the lab's server for lesson 7's protocol
                argv = ['python3', str(ROOT / 'server' / 'RecordServer.py'), *spec.get('args', ['--port=' + PORT])]
            else:
                default = ['--port=' + PORT] if kind == 'server' else []
                argv = ['python3', self._program(spec), *spec.get('args', default)]
            cwd = self.folder
            if kind == 'server' and spec.get('server') != 'c' and tls.needed(spec.get('stage', ''), Path(self._program(spec))):
                # lesson 7: the server opens server.crt and server.key by relative path, in its stage's folder
                cwd = os.path.join(self._certificates(), os.path.basename(tls.server_folder(spec.get('stage', ''))))
            with open(os.path.join(self.folder, name + '.out'), 'wb') as out, \
                    open(os.path.join(self.folder, name + '.err'), 'wb') as err:
                process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                           cwd=cwd, preexec_fn=_bounded)
        role = self.roles[name] = Process(name, spec, process, self.folder, terminal)
        if kind == 'server':
            def started():
                printed = role.stdout() + role.stderr()
                return ('Starting server on' in printed or 'ServerPython: error' in printed
                        or 'Starting record server on' in printed  # the lab's RecordServer
                        or 'Server socket initialized and listening on port' in printed  # lesson 9's
                        or process.poll() is not None)
            try:
                health.eventually(started, what='the server never printed its start line')
            except health.NotYet as error:
                raise AssertionError('{} (it printed: {!r})'.format(error, role.stdout()[-200:])) from None
        if kind == 'netcat':
            tables = ['/proc/net/udp', '/proc/net/udp6'] if spec.get('mode', 'udp') == 'udp' else ['/proc/net/tcp', '/proc/net/tcp6']
            health.eventually(lambda: _bound(PORT, tables) or process.poll() is not None, what='nc never listened')
        return role

    def values(self):
        return {name + '_ip': role.ip for name, role in self.roles.items()}

    def queued(self, at, source, bytes):
        """Whether a connection to the server's port holds BYTES received bytes its program has not read
        (/proc/net/tcp's rx_queue; every role is on 127.0.0.1 here)."""
        with open('/proc/net/tcp') as f:
            for line in list(f)[1:]:
                fields = line.split()
                local, state, queues = fields[1], fields[3], fields[4]
                if state == '01' and local.endswith(':{:04X}'.format(int(PORT))) and int(queues.split(':')[1], 16) == bytes:
                    return True
        return False

    def close(self):
        for role in self.roles.values():
            role.end()
        shutil.rmtree(self.folder, ignore_errors=True)
