"""The learner's own files, exactly as the lessons build them (tests/lesson/: the client at its TCP and
UDP steps, lesson 2's server, lesson 4's threads and lock stages), run through the same make targets
as the lab's reference programs, on a copy of the project: the lab can never pass while the lesson's
own code fails. Each test puts the files it needs in place first."""
import io
import os
import re
import shutil
import subprocess

import pexpect
import pytest

from socketlab import catalogue, engine, health
from socketlab.lab import last_start_logs
from socketlab.measure.speed import copy_project
from socketlab.paths import ROOT
from makeplay import SILENCE, UDP_REPLY, edit, finish, lines, make, person_env, project_name, run, server_logs, wait_received

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('lesson-files')]

LESSON = ROOT / 'tests' / 'lesson'
HELLO = ['Starting client...', "Received: b'Hello, world'"]
ON_THE_SERVERS_HOST = ("Lab: your client connects to 'localhost', as the lesson's does: it runs on the server's host "
                       "(in its network namespace), as the lesson's two terminals on one machine. To cross the lab's "
                       "network, it would use 'server'.")
ON_NCS_HOST = ("Lab: your client sends to 'localhost', as the lesson's does: it runs on nc's host (in its network "
               "namespace), as the lesson's two terminals on one machine. To cross the lab's network, it would use 'netcat'.")
SERVER_ON_LOOPBACK = ("Lab: your server listens on 127.0.0.1:12345 only (it binds 'localhost', as the lesson's does): its "
                      "clients run on its host, as the lesson's terminals on one machine. To reach it from the lab's other "
                      "hosts, bind '0.0.0.0'.")


ONE_MACHINE = 'a connection from 127.0.0.1'


def connected_from(line):
    """The server's connection line, with the one value that varies (the client's port) matched as a number."""
    match = re.fullmatch(r"Received new connection from  \('([0-9.]+)', [0-9]{1,5}\)", line)
    return 'a connection from ' + match.group(1) if match else None


class Checkout:
    """A copy of the project (the lab's images, a compose project of this run's own) whose files a test
    replaces with the lesson's, as a learner does."""

    def __init__(self):
        self.folder = copy_project('socket-lab-lesson-')
        self.project = project_name('-lesson')
        self.env = {'VENV': str(ROOT / '.venv')}

    def put(self, lesson_file, as_):
        """The lesson's file in place of the learner's (client/ClientPython.py or server/ServerPython.py)."""
        shutil.copyfile(LESSON / lesson_file, os.path.join(self.folder, as_))

    def reference(self, path):
        """The lab's own program back in place."""
        shutil.copyfile(ROOT / path, os.path.join(self.folder, path))

    def edit(self, path, old, new):
        edit(self.folder, path, old, new)

    def run(self, *args, **more):
        return run(self.project, *args, cwd=self.folder, env=self.env, **more)

    def make(self, *args):
        return make(self.project, *args, cwd=self.folder, env=self.env)

    def done(self, *args):
        """A make command to its end, its standard output and error apart (a container's two streams
        reach the lab on two pipes: their lines' order against each other is not kept)."""
        return subprocess.run(['make', *args, 'LAB_PROJECT=' + self.project, 'COMPOSE=v2'], cwd=self.folder,
                              env=person_env(**self.env), capture_output=True, text=True, timeout=SILENCE)

    def server_lines(self, last, at_least=1):
        """What the server printed since it last started (an edited server file restarts it), once it
        is AT_LEAST lines ending in LAST: the Engine's log may lag behind what the client received."""
        def printed():
            found = last_start_logs(engine.service_container(self.project, 'server')).splitlines()
            return found if found[-1:] == [last] and len(found) >= at_least else None
        try:
            return health.eventually(printed, what='the server never printed {!r}'.format(last))
        except health.NotYet:
            return last_start_logs(engine.service_container(self.project, 'server')).splitlines()

    def close(self):
        self.run('down')
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope='module')
def checkout():
    checkout = Checkout()
    yield checkout
    checkout.close()


def lab_with(checkout, server_file=None, server='python'):
    """make lab with that server file (None: the lab's reference server), or SERVER=records; its output lines."""
    if server_file:
        checkout.put(server_file, 'server/ServerPython.py')
    else:
        checkout.reference('server/ServerPython.py')
    output, status = checkout.run('lab', 'SERVER=' + server)
    assert status == 0, output
    return output


def test_the_lessons_tcp_client_runs_on_the_servers_host(checkout):
    lab_with(checkout)
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    done = checkout.done('tcp')
    assert (done.stdout.splitlines(), done.stderr.splitlines(), done.returncode) == (HELLO, [ON_THE_SERVERS_HOST], 0)
    server = checkout.server_lines(HELLO[-1])
    assert [connected_from(line) or line for line in server[-2:]] == [ONE_MACHINE, HELLO[-1]]


def test_the_lessons_udp_client_gets_the_reply_typed_into_nc(checkout):
    """make udp, answered in make nc: the lesson's own line, from 127.0.0.1, as on one machine."""
    lab_with(checkout)
    checkout.put('ClientPython-udp.py', 'client/ClientPython.py')
    udp = checkout.make('udp')
    try:
        udp.expect_exact('Starting client...\r\n')
        assert lines(udp.before) == [ON_NCS_HOST]
        wait_received(checkout.project, 'Hello, world')
        nc = checkout.make('nc')
        try:
            nc.expect_exact('Hello, world')
            nc.send(UDP_REPLY.replace('\n', '\r'))
            udp.expect(pexpect.EOF)
        finally:
            nc.close(force=True)
        assert lines(udp.before) == ["Received (from ('127.0.0.1', 12345)): " + repr(UDP_REPLY.encode())]
        assert finish(udp) == 0
    finally:
        udp.close(force=True)


def test_make_tcp_runs_a_udp_file_as_what_it_is(checkout):
    """The file decides: its last line calls start_client_simple_udp(), so make tcp runs it against nc."""
    lab_with(checkout)
    checkout.put('ClientPython-udp.py', 'client/ClientPython.py')
    done = checkout.done('tcp', 'TIMEOUT=2')
    assert done.stderr.splitlines()[:2] == [
        'Lab: client/ClientPython.py ends by calling start_client_simple_udp(): a UDP client, so it runs against nc, as '
        'make udp runs it.', ON_NCS_HOST]
    assert (done.stdout, done.returncode) == ('Starting client...\n', 2)


def test_a_lesson_client_left_waiting_is_stopped_with_what_it_waits_for(checkout):
    lab_with(checkout)
    checkout.put('ClientPython-udp.py', 'client/ClientPython.py')
    done = checkout.done('udp', 'TIMEOUT=2')
    assert (done.stdout, done.returncode) == ('Starting client...\n', 2)
    said, stopped, make_error = done.stderr.splitlines()
    assert (said, stopped) == (ON_NCS_HOST, (
        'Lab: stopped after 2 s: your client is waiting in recvfrom() (ClientPython.py line 28, in '
        'receive_data_simple_udp: data, address = sock.recvfrom(1024)): nothing has answered its datagram: type a '
        'reply in `make nc`'))
    assert make_error.startswith('make: *** ') and make_error.endswith('Error 124')


def test_a_lesson_client_that_raises_keeps_its_traceback_and_gets_one_line(checkout):
    """The lesson's str mistake, made in the learner's own file: Python's traceback, then the lab's line."""
    lab_with(checkout)
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    checkout.edit('client/ClientPython.py', "sock.sendall(b'Hello, world')", "sock.sendall('Hello, world')")
    done = checkout.done('tcp')
    assert (done.stdout, done.returncode) == ('Starting client...\n', 2)
    errors = done.stderr.splitlines()
    assert errors[:3] == [ON_THE_SERVERS_HOST, 'Traceback (most recent call last):',
                          '  File "/app/ClientPython.py", line 22, in <module>']
    assert errors[-3:-1] == ["TypeError: a bytes-like object is required, not 'str'",
                             "Lab: sockets carry bytes: send b'Hello, world', not 'Hello, world' (the lesson's warning)"]


def test_lesson_2s_server_as_printed_is_served_on_its_own_host(checkout):
    """It binds 'localhost': make lab says so and brings it up; make tcp (the lab's client and the
    lesson's) and make server-nc then run on its host, as the lesson's terminals."""
    output = lab_with(checkout, 'ServerPython-lesson2.py')
    assert output[0] == SERVER_ON_LOOPBACK
    checkout.reference('client/ClientPython.py')
    done = checkout.done('tcp')
    assert (done.stdout.splitlines(), done.stderr.splitlines(), done.returncode) == (HELLO, [
        "Lab: the server listens on its loopback only: the client runs on the server's host and connects to localhost."], 0)
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    done = checkout.done('tcp')
    assert (done.stdout.splitlines(), done.stderr.splitlines(), done.returncode) == (HELLO, [ON_THE_SERVERS_HOST], 0)
    server = checkout.server_lines(HELLO[-1], at_least=5)
    assert server[0] == "Starting server on 'localhost' port 12345"
    assert [connected_from(line) or line for line in server[1:]] == [ONE_MACHINE, "Received: b'Hello, world'"] * 2


def test_the_next_lessons_loops_of_the_lessons_client_run_on_the_servers_host(checkout):
    """make clients with lesson 4's lock stage and the lesson's client, as printed: two loops at once."""
    lab_with(checkout, 'ServerPython-lock.py')
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    done = checkout.done('clients', 'N=5', 'LOOPS=2')
    assert done.returncode == 0 and done.stderr.splitlines() == [ON_THE_SERVERS_HOST], done
    assert done.stdout.splitlines()[:2] == ['loop {} on the server\'s host: 5 clients, 5 printed "Received: b\'Hello, '
                                            'world\'"'.format(number) for number in (1, 2)]
    server = '\n'.join(checkout.server_lines('Total messages received: 10'))
    # threads print at once: print() writes its pieces one by one (the text, the separator, the address),
    # so another thread's line may come between them (seen: 9 whole lines of 10); each piece is counted
    assert server.count('Received new connection from ') == 10 and server.count("('127.0.0.1', ") == 10


def test_stage_with_a_server_file_of_ones_own_says_what_runs(checkout):
    checkout.put('ServerPython-threads.py', 'server/ServerPython.py')
    try:
        output, status = checkout.run('lab', 'STAGE=lock')
        assert status == 0 and output[0] == ("Lab: STAGE= picks a stage of the lab's own server; server/ServerPython.py "
                                             "is your own file and runs what its start_server() calls."), output
    finally:
        checkout.run('lab', 'STAGE=simple')  # the stage a lab remembers, back to the lesson's


@pytest.mark.parametrize('stage, counted', [('threads', []), ('lock', ['Total messages received: 1'])])
def test_lesson_4s_stages_as_printed_serve_the_lessons_client(checkout, stage, counted):
    lab_with(checkout, 'ServerPython-{}.py'.format(stage))
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    done = checkout.done('tcp')
    assert (done.stdout.splitlines(), done.stderr.splitlines(), done.returncode) == (HELLO, [ON_THE_SERVERS_HOST], 0)
    server = checkout.server_lines(([HELLO[-1]] + counted)[-1])
    assert server[0] == "Starting server on 'localhost' port 12345"
    assert connected_from(server[1]) == ONE_MACHINE
    assert server[2:] == ["Received: b'Hello, world'", *counted]


def test_make_start_begins_the_client_as_the_lesson_does_and_keeps_the_labs(checkout):
    client = os.path.join(checkout.folder, 'client', 'ClientPython.py')
    kept = os.path.join(checkout.folder, 'client', 'ClientPython.lab.py')
    checkout.reference('client/ClientPython.py')
    try:
        output, status = checkout.run('start')
        assert (output, status) == ([
            "client/ClientPython.py now holds the lesson's first line (import socket); build it up as the lesson does "
            "and run make tcp.",
            "The lab's client is kept in client/ClientPython.lab.py: mv client/ClientPython.lab.py client/ClientPython.py "
            "brings it back."], 0)
        assert open(client).read() == 'import socket\n'
        assert open(kept).read() == (ROOT / 'client' / 'ClientPython.py').read_text()
        output, status = checkout.run('start')  # again: the kept file is never overwritten
        assert status == 2 and output[0] == ("make start: client/ClientPython.lab.py is there already (the lab's client, "
                                             "kept by an earlier make start): nothing changed")
        os.remove(kept)
        checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')  # a learner's own work is never moved
        output, status = checkout.run('start')
        assert status == 2 and output[0] == ("make start: client/ClientPython.py is your own file (not the lab's client): "
                                             "nothing changed; move it away to start again")
        assert open(client).read() == (LESSON / 'ClientPython-tcp.py').read_text() and not os.path.exists(kept)
    finally:
        if os.path.exists(kept):
            os.remove(kept)
        checkout.reference('client/ClientPython.py')


def test_make_capture_of_the_lessons_client_shows_its_loopback_exchange_with_its_calls(checkout):
    lab_with(checkout)
    checkout.put('ClientPython-tcp.py', 'client/ClientPython.py')
    done = checkout.done('capture')
    output = done.stdout.splitlines()
    assert done.returncode == 0 and output[:2] == HELLO and done.stderr.splitlines() == [ON_THE_SERVERS_HOST], done
    header = next(line for line in output if line.lstrip().startswith('time (ms)'))
    assert re.fullmatch(r' *time \(ms\) +client 127\.0\.0\.1:[0-9]+ +server 127\.0\.0\.1:12345', header), header
    named = [re.search(r'<- client: (.*?) at ', line).group(1) for line in output if '<- client: ' in line]
    assert named == ['connect()', "sendall(b'Hello, world')", "recv() = b'Hello, world'", 'close()'], output


def test_lesson_7s_server_and_clients_as_printed_through_make_tls(checkout):
    """Lesson 7 as printed, in the lesson's order, on the server's host: make lab makes the certificates
    its server opens (it imports ssl); the first client's check refuses the self-signed one with the
    lesson's traceback (OpenSSL 3's words), which ends the lesson's server; with the check off, make
    tls brings the server back and the echo comes through."""
    lab_with(checkout, 'ServerPython-tls.py')
    assert os.path.exists(os.path.join(checkout.folder, '.lab', checkout.project, 'tls', 'lesson', 'server.crt'))
    checkout.put('ClientPython-tls.py', 'client/ClientPython.py')
    done = checkout.done('tls')
    assert (done.stdout, done.returncode) == ('Starting client...\n', 2)
    errors = done.stderr.splitlines()
    assert errors[0] == ON_THE_SERVERS_HOST
    assert re.fullmatch(r'ssl\.SSLCertVerificationError: \[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed: '
                        r'self-signed certificate \(_ssl\.c:[0-9]+\)', errors[-3]), errors
    assert errors[-2] == ("Lab: the server's certificate is not trusted, as the lesson shows: its next step switches the "
                          "check off (context.check_hostname = False, then context.verify_mode = ssl.CERT_NONE)")
    logs, _ = checkout.run('logs')  # the server has stopped: its log, as make logs shows it, ends with its last line
    assert server_logs(logs, checkout.project)[-1] == 'Shutting down gracefully...'
    checkout.put('ClientPython-tls-no-check.py', 'client/ClientPython.py')
    done = checkout.done('tls')  # the server started again first, which says where it listens
    assert (done.stdout.splitlines(), done.stderr.splitlines(), done.returncode) == (
        [SERVER_ON_LOOPBACK, *HELLO], [ON_THE_SERVERS_HOST], 0)
    server = checkout.server_lines('Total messages received: 1')
    assert [connected_from(line) or line for line in server[-3:]] == [ONE_MACHINE, HELLO[-1], 'Total messages received: 1']


def menu_session(checkout, typed):
    """make menu in a terminal, TYPED (a list of (prompt, text)) typed after each prompt shows anew; its lines."""
    terminal = checkout.make('menu')
    terminal.logfile_read = shown = io.StringIO()
    for prompt, text in typed:
        terminal.expect_exact(prompt)
        terminal.send(text)
    assert finish(terminal) == 0, shown.getvalue()
    return catalogue.output_lines(shown.getvalue().replace('\r\n', '\n'))


def test_lesson_7s_menu_client_as_printed_then_fixed_through_make_menu(checkout):
    """Lesson 7's client (lesson 6's menu) through make menu, on the server's host, against the lab's
    RecordServer: make tcp refuses it in one line (its menu reads what is typed); as printed, choice 1
    ends at sock.htons; with both fixes, test.log uploads and a query comes back as the catalogue says."""
    lab_with(checkout, server='records')
    checkout.put('ClientPython-menu-as-printed.py', 'client/ClientPython.py')
    done = checkout.done('tcp')
    assert (done.stdout, done.stderr.splitlines()[0], done.returncode) == ('', (
        "client/ClientPython.py ends by calling start_client(), lesson 6's menu, which reads what you type: make menu runs "
        "it in your terminal"), 2)
    lines = menu_session(checkout, [('Enter choice: ', '1\n'), ('upload: ', 'test.log\n'), ('Enter choice: ', '7\n')])
    assert lines[:2] == ["Lab: your client runs in its container's /tmp, with a copy of client/test.log: type test.log at its "
                         "prompt; the query_log.txt it writes goes with the container.",
                         "Lab: your client connects to 'localhost', as the lesson's does: it runs on the server's host."]
    assert lines[12:16] == ['Enter choice: 1', 'Enter the path to the log file to upload: test.log',
                            'Loaded 30 log entries successfully', "Error: 'socket' object has no attribute 'htons'"]
    checkout.put('ClientPython-menu.py', 'client/ClientPython.py')
    expected = catalogue.load_catalogue()['lesson-7-menu-upload-and-query']['expect']['menu']
    lines = menu_session(checkout, [('Enter choice: ', '1\n'), ('upload: ', 'test.log\n'), ('Enter choice: ', '2\n'),
                                    ('Enter filter: ', 'score=1.2\n'), ('Enter choice: ', '2\n'),
                                    ('Enter filter: ', 'username=Alice\n'), ('Enter choice: ', '5\n'), ('Enter choice: ', '7\n')])
    assert lines[2:] == expected
    ported = lambda lines: [re.sub(r', [0-9]{1,5}\)', ', PORT)', line) for line in lines]  # noqa: E731
    closed = "Connection from ('127.0.0.1', PORT) closed"
    server = health.eventually(lambda: (lambda found: found if found[-1:] == [closed] else None)(ported(
        last_start_logs(engine.service_container(checkout.project, 'server')).splitlines())), what='the connection never closed')
    assert server[-6:] == ["Connection from ('127.0.0.1', PORT)", "Upload from ('127.0.0.1', PORT): 30 log entries announced",
                           "Stored 30 log entries from ('127.0.0.1', PORT) (30 in all)",
                           "Query from ('127.0.0.1', PORT): 'score=1.2' keeps 0 of 30 log entries",
                           "Query from ('127.0.0.1', PORT): 'username=Alice' keeps 1 of 30 log entries", closed]
