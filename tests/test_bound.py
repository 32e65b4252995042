"""socketlab/wire/bound.py, the sitecustomize a learner's own client runs with: on the host, with the
host's Python, as the client's container runs it (PYTHONPATH holding it as sitecustomize)."""
import shutil
import subprocess
import sys

import pytest

from socketlab.paths import ROOT


@pytest.fixture
def program(tmp_path):
    site = tmp_path / 'site'
    site.mkdir()
    shutil.copyfile(ROOT / 'socketlab' / 'wire' / 'bound.py', site / 'sitecustomize.py')

    def run(source, bound='', peer='server'):
        path = tmp_path / 'ClientPython.py'
        path.write_text(source)
        env = {'PYTHONPATH': str(site), 'SOCKET_LAB_PROGRAM': str(path), 'SOCKET_LAB_BOUND': bound, 'SOCKET_LAB_PEER': peer}
        return subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=120)
    return run


WAITS = "import socket\nmine, theirs = socket.socketpair()\nprint('Starting client...')\ndata = mine.recv(1024)\n"


@pytest.mark.parametrize('peer, why', [
    ('server', 'the server has not sent anything back (make logs shows what it printed)'),
    ('nc', 'nothing has answered: type a reply in `make nc`'),
])
def test_a_client_left_waiting_is_stopped_naming_its_own_call_and_line(program, peer, why):
    done = program(WAITS, bound='1', peer=peer)
    assert (done.returncode, done.stdout) == (124, 'Starting client...\n')
    assert done.stderr == ('Lab: stopped after 1 s: your client is waiting in recv() (ClientPython.py line 4, in '
                           '<module>: data = mine.recv(1024)): {}\n'.format(why))


def test_a_traceback_is_pythons_own_with_the_labs_one_line_under_it(program):
    done = program("import socket\nsock = socket.socket()\nsock.sendall('Hello, world')\n")
    lines = done.stderr.splitlines()
    assert done.returncode == 1 and lines[0] == 'Traceback (most recent call last):'
    assert lines[-2:] == ["TypeError: a bytes-like object is required, not 'str'",
                          "Lab: sockets carry bytes: send b'Hello, world', not 'Hello, world' (the lesson's warning)"]


def test_lesson_7s_refused_certificate_gets_the_lessons_next_step_under_it(program):
    done = program("import ssl\nraise ssl.SSLCertVerificationError(1, 'certificate verify failed: self-signed certificate')\n")
    assert done.returncode == 1 and done.stderr.splitlines()[-2:] == [
        'ssl.SSLCertVerificationError: certificate verify failed: self-signed certificate',
        "Lab: the server's certificate is not trusted, as the lesson shows: its next step switches the check off "
        "(context.check_hostname = False, then context.verify_mode = ssl.CERT_NONE)"]


def test_a_program_that_ends_by_itself_is_left_alone(program):
    done = program("print('Starting client...')\n", bound='1')
    assert (done.returncode, done.stdout, done.stderr) == (0, 'Starting client...\n', '')


def test_another_program_python_runs_there_is_not_touched(program, tmp_path):
    other = tmp_path / 'other.py'
    other.write_text('import sys, time\ntime.sleep(1.5)\nprint(sys.excepthook is sys.__excepthook__)\n')
    env = {'PYTHONPATH': str(tmp_path / 'site'), 'SOCKET_LAB_PROGRAM': str(tmp_path / 'ClientPython.py'), 'SOCKET_LAB_BOUND': '1'}
    (tmp_path / 'site').mkdir(exist_ok=True)
    shutil.copyfile(ROOT / 'socketlab' / 'wire' / 'bound.py', tmp_path / 'site' / 'sitecustomize.py')
    done = subprocess.run([sys.executable, str(other)], env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, 'True\n')
