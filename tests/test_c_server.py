"""Lesson 9's server in C through make, on a copy of the project (its server/ServerC.c is edited as a
learner edits it): make lab SERVER=c, which the lab then remembers; make tcp and make logs against it;
a file gcc cannot build stops the server with gcc's own lines; make lab SERVER=python goes back. The
catalogue (tests/exchanges.yaml, "Lesson 9") holds the exchanges themselves, the lesson's files as printed."""
import os
import shutil

import pytest

from socketlab.measure.speed import copy_project
from socketlab.paths import LESSON_FILES, ROOT
from makeplay import LESSON, address, edit, project_name, run, server_logs

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
    return server_logs(make('logs')[0], make.project)


def test_make_lab_server_c_runs_servercs_and_make_tcp_is_echoed(copy):
    output, status = copy('lab', 'SERVER=c')
    assert status == 0, output
    assert any(line.startswith('  server  ') and line.endswith('./ServerC  (gcc -o ServerC -lc ServerC.c, line-buffered: '
                                                               'server-c/run.sh)') for line in output), output
    assert 'The lab is up: server (ServerC, lesson 9, built from server/ServerC.c, TCP port 12345), netcat (nc flavour ' \
           'openbsd, UDP port 12345).' in output
    assert copy('tcp') == (LESSON['client'], 0)  # SERVER=c remembered: no restart into the Python server
    assert server_log(copy)[-2:] == ['Server socket initialized and listening on port 12345', 'Received message: Hello, world']
    output, status = copy('tls', 'ARGS=--timeout 5')  # lesson 7's client at lesson 9's server: said, then its error
    assert output[:2] == ["Lab: the server is lesson 9's ServerC, which speaks no TLS: make lab SERVER=python STAGE=tls first.",
                          'Starting client...'] and status == 2, output


def test_the_capture_names_the_c_servers_calls(copy):
    """One recv, one send, close: the C server closes as soon as it has sent, without waiting for the
    client's end (its FIN usually comes first; under load the client's has come first): each FIN named
    close() from its own side's strace lines, whichever comes first."""
    copy('lab', 'SERVER=c')
    output, status = copy('capture')
    assert status == 0 and output[:2] == LESSON['client'], output
    assert any("server: send(b'Hello, world')" in line for line in output), output  # C's call, by its name
    fins = {line.lstrip().split('|')[1][:2]: line for line in output if ' FIN,ACK ' in line}  # '<-' from the server, '--' to it
    assert set(fins) == {'<-', '--'} and 'server: close()' in fins['<-'] and 'client: close()' in fins['--'], output


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


def test_strict_makes_gcc_stop_at_the_lessons_missing_unistd_as_clang_does(copy):
    """The lesson's TCP file before its fix: plain gcc 12 warns and builds it; STRICT=1 (gcc
    -Werror=implicit-function-declaration) stops the build with gcc's error, where clang and gcc 14 stop."""
    shutil.copyfile(LESSON_FILES / 'ServerC-no-unistd.c', os.path.join(copy.folder, 'server', 'ServerC.c'))
    try:
        assert copy('lab', 'SERVER=c')[1] == 0
        assert copy('tcp') == (LESSON['client'], 0)
        output, status = copy('lab', 'SERVER=c', 'STRICT=1')
        assert status == 2, output
        shown = '\n'.join(output)
        assert "error: implicit declaration of function ‘close’; did you mean ‘pclose’? [-Werror=implicit-function-declaration]" \
            in shown and 'cc1: some warnings being treated as errors' in shown, output
    finally:
        shutil.copyfile(ROOT / 'server' / 'ServerC.c', os.path.join(copy.folder, 'server', 'ServerC.c'))
    assert copy('lab', 'SERVER=c')[1] == 0  # STRICT is not remembered: the next make lab builds as the lesson does


def test_lesson_9s_udp_step_is_said_and_answers_make_tcp_udp(copy):
    """The lesson's UDP ServerC.c: no TCP listener, so make lab says where it listens and how to reach
    it; make tcp ARGS=--udp gets the client lesson's datagram back from the server's port."""
    shutil.copyfile(LESSON_FILES / 'ServerC-udp.c', os.path.join(copy.folder, 'server', 'ServerC.c'))
    try:
        output, status = copy('lab', 'SERVER=c')
        assert status == 0, output
        assert ("Lab: your server listens on UDP 0.0.0.0:12345 (SOCK_DGRAM, lesson 9's UDP step), not TCP: make tcp "
                "ARGS=--udp sends it the client lesson's datagram.") in output, output
        _, server_ip = address(copy.project, 'server')
        assert copy('tcp', 'ARGS=--udp') == (
            ['Starting client...', "Received (from ('{}', 12345)): b'Hello, world'".format(server_ip)], 0)
    finally:
        shutil.copyfile(ROOT / 'server' / 'ServerC.c', os.path.join(copy.folder, 'server', 'ServerC.c'))


def test_make_lab_server_python_goes_back_to_the_lessons_python_server(copy):
    output, status = copy('lab', 'SERVER=python')
    assert status == 0, output
    assert any(line.startswith('  server  ') and 'python3 ServerPython.py --port=12345' in line for line in output), output
    assert copy('tcp') == (LESSON['client'], 0)
    assert server_log(copy)[-1] == "Received: b'Hello, world'"
    assert os.path.exists(os.path.join(copy.folder, '.lab', copy.project, 'server'))
