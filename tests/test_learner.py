"""What the lab reads from a learner's client file (socketlab.learner), as a table: source -> how it
runs. Host-side: the file is parsed, never run."""
import pytest

from socketlab import learner
from socketlab.paths import LESSON_FILES, ROOT

TCP = "import socket\ndef start_client_simple():\n    s = socket.socket()\n    s.connect(({host}, 12345))\n{main}"
UDP = ("import socket\nSERVER_NAME = {host}\nSERVER_PORT = 12345\ndef start_client_simple_udp():\n"
       "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.sendto(b'x', (SERVER_NAME, SERVER_PORT))\n{main}")

# source -> (lab_flags, udp, main_call, on_loopback)
TABLE = [
    (TCP.format(host="'localhost'", main="start_client_simple()\n"), (False, False, 'start_client_simple', True)),
    (TCP.format(host="'127.0.0.1'", main="start_client_simple()\n"), (False, False, 'start_client_simple', True)),
    (TCP.format(host="'server'", main="start_client_simple()\n"), (False, False, 'start_client_simple', False)),
    (UDP.format(host="'localhost'", main="start_client_simple_udp()\n"), (False, True, 'start_client_simple_udp', True)),
    (UDP.format(host="'netcat'", main="start_client_simple_udp()\n"), (False, True, 'start_client_simple_udp', False)),
    # the last call decides (the lesson switches the last line back and forth)
    (UDP.format(host="'localhost'", main="start_client_simple()\nstart_client_simple_udp()\n"),
     (False, True, 'start_client_simple_udp', True)),
    (TCP.format(host="'localhost'", main="if __name__ == '__main__':\n    start_client_simple()\n"),
     (False, False, 'start_client_simple', True)),
    # the lab's contract: it reads $SERVER_NAME
    ("import os\nSERVER_NAME = os.environ.get('SERVER_NAME', 'localhost')\n", (True, False, '', False)),
    ("import os\nSERVER_NAME = os.getenv('SERVER_NAME')\n", (True, False, '', False)),
    ("import os\nSERVER_NAME = os.environ['SERVER_NAME']\n", (True, False, '', False)),
    ("import socket\n", (False, False, '', False)),  # make start's first line: nothing to call yet
]


# Lesson 7's client files -> (tls, checks_certificate, on_loopback, step): socket.create_connection's host
# counts as connect()'s; the check is off once verify_mode is set to CERT_NONE.
TLS_TABLE = [
    ('ClientPython-tls.py', (True, True, True, 'TLS step (the certificate checked)')),
    ('ClientPython-tls-no-check.py', (True, False, True, 'TLS step (the check switched off)')),
    ('ClientPython-tcp.py', (False, True, True, 'TCP step')),
    ('ClientPython-udp.py', (False, True, True, 'UDP step')),
]


@pytest.mark.parametrize('name, expected', TLS_TABLE)
def test_lesson_7s_client_is_read_for_its_tls_step(name, expected):
    found = learner.client_file(LESSON_FILES / name)
    assert (found.tls, found.checks_certificate, found.on_loopback, found.step) == expected


@pytest.mark.parametrize('source, expected', TABLE)
def test_a_client_file_is_read_for_what_it_runs_and_where_it_talks(tmp_path, source, expected):
    path = tmp_path / 'ClientPython.py'
    path.write_text(source)
    found = learner.client_file(path)
    assert (found.lab_flags, found.udp, found.main_call, found.on_loopback) == expected


def test_a_file_python_cannot_parse_runs_as_it_is_and_says_why_itself(tmp_path):
    path = tmp_path / 'ClientPython.py'
    path.write_text('def start_client_simple(:\n')
    assert learner.client_file(path) == learner.ClientFile(lab_flags=False, readable=False)


def test_the_labs_reference_programs_and_the_lessons_files_are_told_apart():
    assert learner.client_file(ROOT / 'client' / 'ClientPython.py').lab_flags
    assert learner.server_has_stages(ROOT / 'server' / 'ServerPython.py')
    assert not any(learner.client_file(path).lab_flags for path in LESSON_FILES.glob('ClientPython-*.py'))
    assert not any(learner.server_has_stages(path) for path in LESSON_FILES.glob('ServerPython-*.py'))


@pytest.mark.parametrize('name, stage', [('ServerPython-lesson2.py', 'simple'), ('ServerPython-threads.py', 'threads'),
                                         ('ServerPython-lock.py', 'lock'), ('ServerPython-pool.py', 'thread-pool'),
                                         ('ServerPython-tls.py', 'tls-as-printed')])
def test_a_server_files_stage_is_what_its_start_server_calls(name, stage):
    assert learner.server_stage(LESSON_FILES / name) == stage


def test_a_server_file_without_start_server_has_no_stage(tmp_path):
    path = tmp_path / 'ServerPython.py'
    path.write_text('import socket\n')
    assert learner.server_stage(path) is None
