"""What the learner's own files do, read from their source (never run on the host): the lab runs a
file the way its code says, not the way a flag says.

The lab's reference programs (client/ClientPython.py and server/ServerPython.py as the project ships
them) read the lab's environment ($SERVER_NAME, $SERVER_STAGE) and take its flags. A file written as
the lesson writes it reads neither: it talks to 'localhost' and its last line says what it runs
(`start_client_simple()` or `start_client_simple_udp()`). Such a file runs on its peer's host, as the
lesson's two terminals on one machine, and the lab says so in one line.
"""
import ast
import re
from dataclasses import dataclass

from .errors import SettingError
from .paths import ROOT

CLIENT_FILE = ROOT / 'client' / 'ClientPython.py'
SERVER_FILE = ROOT / 'server' / 'ServerPython.py'
SERVER_C_FILE = ROOT / 'server' / 'ServerC.c'  # lesson 9's server, in C (make lab SERVER=c)
LOOPBACK = ('localhost', '::1')  # and 127.0.0.0/8


def loopback(host):
    return host in LOOPBACK or host.startswith('127.')


@dataclass(frozen=True)
class ClientFile:
    """The learner's client, as its source says: what it reads, calls and talks to."""
    lab_flags: bool = True     # reads $SERVER_NAME and takes the lab's flags (the lab's reference client)
    udp: bool = False          # its main code calls start_client_simple_udp (the lesson's UDP step)
    main_call: str = ''        # the start_client_* function its main code calls, '' if none is found
    hosts: tuple = ()          # the hosts it connects or sends to, where the source names them
    readable: bool = True      # False: Python cannot parse it (it says why when it runs)
    tls: bool = False          # its main code calls start_client_simple_ssl (lesson 7)
    checks_certificate: bool = True  # lesson 7's first run; False once it sets verify_mode = ssl.CERT_NONE

    @property
    def menu(self):
        """Its main code calls start_client(): lesson 6's menu (lesson 7 adds upload and query), typed into."""
        return self.main_call == 'start_client'

    @property
    def step(self):
        """The lessons' step it is at, in a learner's words."""
        if self.menu:
            return "menu step (lesson 6's menu, lesson 7's upload and query)"
        if self.tls:
            return 'TLS step ({})'.format('the certificate checked' if self.checks_certificate else 'the check switched off')
        return 'UDP step' if self.udp else 'TCP step'

    @property
    def on_loopback(self):
        """It talks to localhost: on its own container's loopback, nothing answers."""
        return any(loopback(host) for host in self.hosts)


def _tree(path):
    """The file's syntax tree, or None where it cannot be read or parsed (Python says why when it runs)."""
    try:
        return ast.parse(path.read_text(), str(path))
    except (OSError, SyntaxError, ValueError):
        return None


def _called(statements):
    """The functions these statements call as statements of their own (`start_server()`), in order."""
    return [s.value.func.id for s in statements
            if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Name)]


def client_file(path=CLIENT_FILE):
    tree = _tree(path)
    if tree is None:
        return ClientFile(lab_flags=False, readable=False)
    names = _constants(tree)
    main = _main_calls(tree)
    main_call = next((name for name in reversed(main) if name.startswith('start_client')), '')
    unchecked = any(isinstance(node, ast.Assign) and any(ast.unparse(t).endswith('.verify_mode') for t in node.targets)
                    and ast.unparse(node.value) in ('ssl.CERT_NONE', 'CERT_NONE') for node in ast.walk(tree))
    return ClientFile(lab_flags=_reads_environment(tree, 'SERVER_NAME'), udp=main_call.endswith('_udp'),
                      main_call=main_call, hosts=tuple(_hosts(tree, names)), tls=main_call.endswith('_ssl'),
                      checks_certificate=not unchecked)


def server_has_stages(path=SERVER_FILE):
    """Whether the server file takes the lab's STAGE= (reads $SERVER_STAGE, as the lab's reference does)."""
    tree = _tree(path)
    return tree is not None and _reads_environment(tree, 'SERVER_STAGE')


# The server file's STAGES table, read from its source by its layout (no parse: make tcp asks it each run).
_STAGES_TABLE = re.compile(r'^STAGES = \{\n(.*?)^\}', re.M | re.S)
_STAGE_KEY = re.compile(r"^\s+'([a-z][a-z-]*)':", re.M)


def server_stages(path=None):
    """('simple', the keys of the server file's STAGES table...): the stages make lab STAGE= offers; None
    where the file has no such table (a learner's own server, as a lesson prints it: its stage is what
    its start_server() calls)."""
    try:
        table = _STAGES_TABLE.search((path or SERVER_FILE).read_text())
    except (OSError, UnicodeDecodeError):
        return None
    return ('simple', *_STAGE_KEY.findall(table.group(1))) if table else None


def uses_tls(path=SERVER_FILE):
    """Whether a program file imports ssl (lesson 7): it then needs the lab's certificates."""
    tree = _tree(path)
    return tree is not None and any(
        isinstance(node, ast.Import) and any(alias.name == 'ssl' for alias in node.names)
        or isinstance(node, ast.ImportFrom) and node.module == 'ssl' for node in ast.walk(tree))


# What a server's start_server() calls -> the lesson's stage (lesson 4 edits handle_new_connections_threads
# in place for the counter, the lock and the condition: what that function uses tells them apart).
SERVER_STAGES = {'handle_new_connections_simple': 'simple', 'handle_new_connections_select': 'select',
                 'handle_new_connections_poll': 'poll', 'handle_new_connections_thread_pool': 'thread-pool',
                 'handle_new_connections_threadpool': 'thread-pool'}


def server_stage(path=SERVER_FILE):
    """The stage of the lessons a server file is at, from what its start_server() calls (its last
    call), or None where that cannot be read (no start_server, a syntax error)."""
    tree = _tree(path)
    if tree is None:
        return None
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    start = functions.get('start_server')
    called = _called(start.body) if start else []
    if not called:
        return None
    if called[-1] in ('handle_new_connections_thread_pool', 'handle_new_connections_threadpool'):  # lesson 7 makes its setup_ssl live
        used = {node.func.id for node in ast.walk(functions.get(called[-1], tree))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        return 'tls-as-printed' if 'setup_ssl' in used else 'thread-pool'
    if called[-1] == 'handle_new_connections_threads':
        used = {node.id for node in ast.walk(functions.get(called[-1], tree)) if isinstance(node, ast.Name)}
        return ('condition' if 'condition' in used else 'lock' if 'messageCounterLock' in used
                else 'counter' if 'messageCounter' in used else 'threads')
    return SERVER_STAGES.get(called[-1])


def _constants(tree):
    """Module-level NAME = 'text' assignments (the lesson's SERVER_NAME = 'localhost'); the last one wins."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _main_calls(tree):
    """The functions the main code calls, in order: top-level calls and those under `if __name__ == ...`."""
    calls = []
    for node in tree.body:
        calls += _called(node.body if isinstance(node, ast.If) and '__name__' in ast.unparse(node.test) else [node])
    return calls


def _hosts(tree, names):
    """The host of every connect((HOST, PORT)), socket.create_connection((HOST, PORT)) and
    sendto(DATA, (HOST, PORT)), where HOST is text or a module-level name for text."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        if node.func.attr in ('connect', 'connect_ex', 'create_connection'):
            address = node.args[0]
        elif node.func.attr == 'sendto':
            address = node.args[-1]
        else:
            continue
        if isinstance(address, ast.Tuple) and address.elts:
            host = address.elts[0]
            if isinstance(host, ast.Constant) and isinstance(host.value, str):
                yield host.value
            elif isinstance(host, ast.Name) and host.id in names:
                yield names[host.id]


def _reads_environment(tree, variable):
    """Whether the source reads os.environ[VARIABLE] / os.environ.get(VARIABLE) / os.getenv(VARIABLE)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == variable:
            if ast.unparse(node.func) in ('os.environ.get', 'os.getenv', 'environ.get', 'getenv'):
                return True
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == variable:
            if ast.unparse(node.value) in ('os.environ', 'environ'):
                return True
    return False


# make start: the lesson's starting point. The lesson builds ClientPython.py from scratch, beginning with
# its first line; the lab's reference client is kept beside it, under this name, to come back to.
FIRST_LINES = 'import socket\n'
KEPT = CLIENT_FILE.with_name('ClientPython.lab.py')


def start():
    """client/ClientPython.py as the lesson begins it, the lab's reference kept as KEPT; refused (one
    line, nothing changed) where the learner's own work would be overwritten."""
    if KEPT.exists():
        raise SettingError('make start: {} is there already (the lab\'s client, kept by an earlier make start): nothing '
                           'changed'.format(KEPT.relative_to(ROOT)))
    if CLIENT_FILE.exists() and not client_file().lab_flags:
        raise SettingError('make start: {} is your own file (not the lab\'s client): nothing changed; move it away to '
                           'start again'.format(CLIENT_FILE.relative_to(ROOT)))
    if CLIENT_FILE.exists():
        CLIENT_FILE.rename(KEPT)
    CLIENT_FILE.write_text(FIRST_LINES)
    return ['{} now holds the lesson\'s first line ({}); build it up as the lesson does and run make tcp.'.format(
                CLIENT_FILE.relative_to(ROOT), FIRST_LINES.strip()),
            "The lab's client is kept in {0}: mv {0} {1} brings it back.".format(KEPT.relative_to(ROOT), CLIENT_FILE.relative_to(ROOT))]
