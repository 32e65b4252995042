"""Host-side tests of the two programs, no Docker: their argument parsing, their output lines and
their error lines, run with this Python on 127.0.0.1."""
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from socketlab.paths import ROOT

CLIENT_FILE = ROOT / 'client' / 'ClientPython.py'
SERVER_FILE = ROOT / 'server' / 'ServerPython.py'


def load(path):
    """The program as a module, as a learner's `import` would see it (its __main__ part not run)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client():
    return load(CLIENT_FILE)


@pytest.fixture
def server():
    return load(SERVER_FILE)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run(path, *args, env=None, timeout=120):
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def local_server():
    """The lesson's server on 127.0.0.1 at a free port, ready once it printed its start line."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SERVER_FILE), '-p', str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, 'LISTEN_ADDRESS': '127.0.0.1'})
    first = process.stdout.readline()
    assert first == "Starting server on 'localhost' port {}\n".format(port), process.stderr.read()
    process.port = port
    yield process
    process.kill()
    process.wait(5)


# --- the server --------------------------------------------------------------------------------

@pytest.mark.parametrize('args, port', [
    ([], 12345), (['-p', '40000'], 40000), (['--port=40000'], 40000), (['-p'], 12345),
    (['-p', '1'], 1), (['--port=65535'], 65535),
    # the lesson's order: the first -p wins over any --port=, then the first --port=
    (['--port=40001', '-p', '40002'], 40002), (['-p', '40002', '--port=40001'], 40002),
    (['-p', '40001', '-p', '40002'], 40001), (['--port=40001', '--port=40002'], 40001),
])
def test_server_port_arguments(server, args, port):
    assert server.parse_command_line_arguments(args) == port


@pytest.mark.parametrize('args, message', [
    (['-p', 'abc'], "bad port 'abc': give a number from 1 to 65535"),
    (['-p', '0'], "bad port '0': give a number from 1 to 65535"),
    (['-p', '70000'], "bad port '70000': give a number from 1 to 65535"),
    (['--port=x1'], "bad port 'x1': give a number from 1 to 65535"),
    (['--port=12345x'], "bad port '12345x': give a number from 1 to 65535"),
    (['--verbose'], "unknown argument '--verbose': use -p PORT or --port=PORT"),
])
def test_server_bad_arguments(server, args, message):
    with pytest.raises(server.ConfigError) as raised:
        server.parse_command_line_arguments(args)
    assert str(raised.value) == message


@pytest.mark.parametrize('text', ['0', '-1', 'soon', '', 'inf', 'nan', '1e10'])
def test_server_bad_setting(server, text):
    with pytest.raises(server.ConfigError) as raised:
        server.positive_setting('IDLE_TIMEOUT', text, float)
    assert str(raised.value) == 'bad IDLE_TIMEOUT {!r}: give a positive number'.format(text)


def test_server_bad_setting_is_one_line_and_exit_1():
    result = run(SERVER_FILE, env={'RECV_SIZE': 'lots'})
    assert (result.returncode, result.stdout, result.stderr) == (
        1, '', "ServerPython: error: bad RECV_SIZE 'lots': give a positive number\n")


def test_server_port_in_use_is_one_line_and_exit_1(local_server):
    result = run(SERVER_FILE, '-p', str(local_server.port), env={'LISTEN_ADDRESS': '127.0.0.1'})
    assert (result.returncode, result.stdout, result.stderr) == (
        1, '', 'ServerPython: error: cannot listen on 127.0.0.1 port {}: Address already in use\n'.format(local_server.port))


def test_server_echoes_and_prints_the_lessons_lines(local_server):
    with socket.create_connection(('127.0.0.1', local_server.port)) as sock:
        sock.sendall(b'Hello\n')
        assert sock.recv(1024) == b'Hello\n'
        address = sock.getsockname()
    assert local_server.stdout.readline() == 'Received new connection from  {}\n'.format(address)
    assert local_server.stdout.readline() == "Received: b'Hello\\n'\n"


def test_server_stops_at_once_on_sigterm(local_server):
    local_server.send_signal(signal.SIGTERM)
    assert local_server.wait(5) == 0
    assert local_server.stderr.read() == ''


# --- the client --------------------------------------------------------------------------------

def test_client_defaults_are_the_lessons(monkeypatch):
    monkeypatch.delenv('SERVER_NAME', raising=False)
    monkeypatch.delenv('SERVER_PORT', raising=False)
    flags = load(CLIENT_FILE).parse_command_line_arguments([])
    assert (flags.host, flags.port, flags.udp, flags.timeout, flags.send_str) == ('localhost', 12345, False, 30.0, False)


def test_client_globals_come_from_the_environment(monkeypatch):
    monkeypatch.setenv('SERVER_NAME', 'netcat')
    monkeypatch.setenv('SERVER_PORT', '40000')
    module = load(CLIENT_FILE)
    flags = module.parse_command_line_arguments([])
    assert (flags.host, flags.port) == ('netcat', 40000)


def test_client_globals_are_the_lessons_types_when_imported(monkeypatch, local_server):
    """A learner who imports the client and calls start_client_simple() (its __main__ part not run)
    gets the lesson's int port, and the exchange."""
    monkeypatch.delenv('SERVER_PORT', raising=False)
    assert load(CLIENT_FILE).SERVER_PORT == 12345
    monkeypatch.setenv('SERVER_PORT', str(local_server.port))
    module = load(CLIENT_FILE)
    assert module.SERVER_PORT == local_server.port
    done = subprocess.run([sys.executable, '-c', 'import ClientPython; ClientPython.start_client_simple()'],
                          cwd=CLIENT_FILE.parent, capture_output=True, text=True, timeout=120,
                          env={**os.environ, 'SERVER_PORT': str(local_server.port), 'PYTHONDONTWRITEBYTECODE': '1'})
    assert (done.stdout, done.stderr, done.returncode) == ("Received: b'Hello, world'\n", '', 0)


def test_client_flags(client):
    flags = client.parse_command_line_arguments(['--host', 'server', '--port', '40000', '--udp', '--timeout', '0.5', '--send-str'])
    assert (flags.host, flags.port, flags.udp, flags.timeout, flags.send_str) == ('server', 40000, True, 0.5, True)


@pytest.mark.parametrize('args, message', [
    (['--port', 'abc'], "argument --port: bad port 'abc': give a number from 1 to 65535"),
    (['--port', '65536'], "argument --port: bad port '65536': give a number from 1 to 65535"),
    (['--timeout', '0'], "argument --timeout: bad timeout '0': give a number of seconds, at most 86400"),
    (['--timeout', 'inf'], "argument --timeout: bad timeout 'inf': give a number of seconds, at most 86400"),
    (['--timeout', 'nan'], "argument --timeout: bad timeout 'nan': give a number of seconds, at most 86400"),
    (['--colour'], 'unrecognized arguments: --colour'),
])
def test_client_bad_flags_are_one_line_and_exit_2(args, message):
    result = run(CLIENT_FILE, *args)
    assert (result.returncode, result.stdout, result.stderr) == (2, '', 'ClientPython: error: {}\n'.format(message))


def test_receive_data_simple_prints_the_lessons_line(client, capsys):
    mine, theirs = socket.socketpair()
    with mine, theirs:
        theirs.sendall(b'Hello, world')
        client.receive_data_simple(mine)
    assert capsys.readouterr().out == "Received: b'Hello, world'\n"


def test_receive_data_simple_udp_prints_the_lessons_line(client, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mine, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as nc:
        mine.bind(('127.0.0.1', 0))
        nc.bind(('127.0.0.1', 0))
        nc.sendto(b'This is our typed response\n', mine.getsockname())
        client.receive_data_simple_udp(mine)
        port = nc.getsockname()[1]
    assert capsys.readouterr().out == "Received (from ('127.0.0.1', {})): b'This is our typed response\\n'\n".format(port)


def test_send_str_makes_the_lessons_mistake(client):
    client.SEND_STR = True
    mine, theirs = socket.socketpair()
    with mine, theirs, pytest.raises(TypeError) as raised:
        client.send_data_simple(mine)
    assert str(raised.value) == "a bytes-like object is required, not 'str'"


@pytest.mark.parametrize('error, udp, message', [
    (socket.gaierror(-2, 'Name or service not known'), False, "unknown host 'server': the name does not resolve"),
    (ConnectionRefusedError(111, 'Connection refused'), False, 'connection to server port 12345 refused: is the server running?'),
    (socket.timeout('timed out'), True, 'no UDP reply from server port 12345 within 30 s: UDP does not guarantee delivery, so a reply may never arrive'),
    (socket.timeout('timed out'), False, 'no answer from server port 12345 within 30 s'),
    (OSError(113, 'No route to host'), False, 'connection to server port 12345 failed: No route to host'),
])
def test_describe_error(client, error, udp, message):
    client.SERVER_NAME, client.SERVER_PORT = 'server', 12345
    assert client.describe_error(error, udp) == message


def test_client_against_the_local_server_prints_the_lesson(local_server):
    result = run(CLIENT_FILE, '--host', '127.0.0.1', '--port', str(local_server.port))
    assert (result.returncode, result.stdout, result.stderr) == (0, "Starting client...\nReceived: b'Hello, world'\n", '')


def test_client_refused_is_one_line():
    port = free_port()
    result = run(CLIENT_FILE, '--host', '127.0.0.1', '--port', str(port))
    assert (result.returncode, result.stdout, result.stderr) == (
        1, 'Starting client...\n', 'ClientPython: error: connection to 127.0.0.1 port {} refused: is the server running?\n'.format(port))


def test_client_udp_timeout_is_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(('127.0.0.1', 0))  # receives the datagram, never answers
        port = silent.getsockname()[1]
        result = run(CLIENT_FILE, '--udp', '--host', '127.0.0.1', '--port', str(port), '--timeout', '0.2')
        assert silent.recv(1024) == b'Hello, world'
    assert (result.returncode, result.stdout, result.stderr) == (
        1, 'Starting client...\n', 'ClientPython: error: no UDP reply from 127.0.0.1 port {} within 0.2 s: UDP does '
        'not guarantee delivery, so a reply may never arrive\n'.format(port))


def test_client_send_str_prints_the_lessons_typeerror(local_server):
    result = run(CLIENT_FILE, '--host', '127.0.0.1', '--port', str(local_server.port), '--send-str')
    assert (result.returncode, result.stdout, result.stderr) == (
        1, 'Starting client...\n', "TypeError: a bytes-like object is required, not 'str'\n")


def test_the_labs_stage_names_are_read_from_the_servers_own_table(server):
    """make lab STAGE= offers what the server's STAGES holds (read from its source, never run), in its
    order, and make help's list of them (docs/variables.txt) names each."""
    from socketlab.paths import ROOT
    from socketlab.learner import server_stages
    assert server_stages() == ('simple', *server.STAGES)
    listed = ROOT.joinpath('docs', 'variables.txt').read_text().split('STAGE=simple')[1].split('SERVER=')[0]
    assert set(server_stages()) <= set(re.findall(r'[a-z][a-z-]*', listed))


def test_the_server_refuses_an_unknown_stage_in_one_line():
    result = run(SERVER_FILE, env={'SERVER_STAGE': 'fork'})
    assert result.returncode == 1 and result.stderr.startswith("ServerPython: error: unknown stage 'fork': give simple or threads,")
