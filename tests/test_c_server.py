"""Lesson 9's server in C through make, on a copy of the project (its server/ServerC.c is edited as a
learner edits it): make lab SERVER=c, which the lab then remembers; make tcp and make logs against it;
a file gcc cannot build stops the server with gcc's own lines; make lab SERVER=python goes back. The
catalogue (tests/exchanges.yaml, "Lesson 9") holds the exchanges themselves, the lesson's files as printed."""
import os
import shutil

import pytest

from socketlab.measure.speed import copy_project
from socketlab.paths import ROOT
from makeplay import LESSON, edit, project_name, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('c-server')]


@pytest.fixture(scope='module')
def copy():
    folder = copy_project('socket-lab-c-')
    project = project_name('-c-server')

    def make(*args):
        return run(project, *args, cwd=folder, env={'VENV': str(ROOT / '.venv')})
    make.folder, make.project = folder, project
    yield make
    make('down')
    shutil.rmtree(folder, ignore_errors=True)


def server_log(make):
    """The server's part of make logs."""
    logs, _ = make('logs')
    start = logs.index('--- server ({}-server-1) ---'.format(make.project)) + 1
    return logs[start:logs.index('--- what nc received ({}-netcat-1) ---'.format(make.project))]


def test_make_lab_server_c_runs_servercs_and_make_tcp_is_echoed(copy):
    output, status = copy('lab', 'SERVER=c')
    assert status == 0, output
    assert any(line.startswith('  server  ') and line.endswith('./ServerC  (gcc -o ServerC -lc ServerC.c, line-buffered: '
                                                               'server-c/run.sh)') for line in output), output
    assert 'The lab is up: server (ServerC, lesson 9, built from server/ServerC.c, TCP port 12345), netcat (nc flavour ' \
           'openbsd, UDP port 12345).' in output
    assert copy('tcp') == (LESSON['client'], 0)  # SERVER=c remembered: no restart into the Python server
    assert server_log(copy)[-2:] == ['Server socket initialized and listening on port 12345', 'Received message: Hello, world']


def test_the_capture_shows_the_c_server_closing_first(copy):
    """One recv, one send, close: its FIN before the client's, named close() from strace's lines."""
    copy('lab', 'SERVER=c')
    output, status = copy('capture')
    assert status == 0 and output[:2] == LESSON['client'], output
    assert any("server: send(b'Hello, world')" in line for line in output), output  # C's call, by its name
    fins = [line for line in output if ' FIN,ACK ' in line]
    assert len(fins) == 2 and fins[0].lstrip().split('|')[1].startswith('<') and 'server: close()' in fins[0], output
    assert fins[1].lstrip().split('|')[1].startswith('--') and 'client: close()' in fins[1], output


def test_a_file_gcc_cannot_build_stops_the_server_with_gccs_lines(copy):
    copy('lab', 'SERVER=c')
    edit(copy.folder, 'server/ServerC.c', '    close(client_socket);\n}', '    close(client_socket)\n}')
    try:
        output, status = copy('tcp')
        assert status == 2 and 'the server stopped; what it printed:' in ' '.join(output), output
        assert any("/app/ServerC.c:" in line and "error: expected ‘;’ before ‘}’ token" in line for line in output), output
    finally:
        edit(copy.folder, 'server/ServerC.c', '    close(client_socket)\n}', '    close(client_socket);\n}')
    assert copy('tcp') == (LESSON['client'], 0)


def test_make_lab_server_python_goes_back_to_the_lessons_python_server(copy):
    output, status = copy('lab', 'SERVER=python')
    assert status == 0, output
    assert any(line.startswith('  server  ') and 'python3 ServerPython.py --port=12345' in line for line in output), output
    assert copy('tcp') == (LESSON['client'], 0)
    assert server_log(copy)[-1] == "Received: b'Hello, world'"
    assert os.path.exists(os.path.join(copy.folder, '.lab', copy.project, 'server'))
