"""The learner's edit-run loop, on a copy of the project (the project's own files are never edited):
an edit reaches the next `make tcp` with no image build; an edited server is restarted on its new file.
And `make speed`, which measures that loop, in a tiny configuration: its figures, and what it leaves."""
import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest

from socketlab import engine, lab, sweep
from socketlab.measure.speed import Copy
from socketlab.paths import ROOT
from socketlab.settings import Settings, SettingError
from makeplay import edit, person_env, project_name, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('edit-loop')]


def make(copy, *targets):
    return subprocess.run(['make', *targets, 'COMPOSE=v2'], cwd=copy.folder, env=copy.env, capture_output=True, text=True)


def replace(copy, path, old, new):
    edit(copy.folder, path, old, new)


@pytest.fixture(scope='module')
def copy():
    settings = Settings.from_environment({})
    copy = Copy(settings)
    copy.seed_images(settings)
    done = make(copy, 'lab')
    copy.images_after_lab = {name: engine.client().images.get('{}/{}'.format(copy.images, name)).id
                             for name in ('server', 'client', 'netcat')}
    copy.lab = done
    yield copy
    copy.close()


def test_an_edited_client_runs_as_saved_with_no_build(copy):
    assert copy.lab.returncode == 0, copy.lab.stderr
    replace(copy, 'client/ClientPython.py', "print('Starting client...')", "print('Starting my client...')")
    done = make(copy, 'tcp')
    assert (done.returncode, done.stdout) == (0, "Starting my client...\nReceived: b'Hello, world'\n"), done.stderr
    assert engine.client().images.get(copy.images + '/client').id == copy.images_after_lab['client']


def test_an_edited_server_is_restarted_on_its_new_file(copy):
    replace(copy, 'server/ServerPython.py', "print('Received:', data)", "print('Got:', data)")
    done = make(copy, 'tcp')
    assert done.returncode == 0, done.stderr
    server = engine.service_container(copy.project, 'server')
    assert server.logs().decode().splitlines()[-1] == "Got: b'Hello, world'"
    assert engine.client().images.get(copy.images + '/server').id == copy.images_after_lab['server']


def test_a_server_bound_to_localhost_is_served_on_its_host_and_said_at_once(copy):
    """The lesson's own server binds 'localhost': only its own host reaches it. The lab says so at once,
    with the address (not after a wait, nor as 'refused'), and runs the client on the server's host."""
    replace(copy, 'server/ServerPython.py', 'sock.bind((LISTEN_ADDRESS, port))', 'sock.bind((SERVER_NAME, port))')
    done = make(copy, 'tcp')
    replace(copy, 'server/ServerPython.py', 'sock.bind((SERVER_NAME, port))', 'sock.bind((LISTEN_ADDRESS, port))')
    assert done.returncode == 0, done.stderr
    output = done.stdout.splitlines()  # the client's start line is the module's edited one (above), or the lab's
    assert output[0] == (
        "Lab: your server listens on 127.0.0.1:12345 only (it binds 'localhost', as the lesson's does): its clients run "
        "on its host, as the lesson's terminals on one machine. To reach it from the lab's other hosts, bind '0.0.0.0'.")
    assert output[-1] == "Received: b'Hello, world'" and len(output) == 3
    assert done.stderr.splitlines() == [
        "Lab: the server listens on its loopback only: the client runs on the server's host and connects to localhost."]


def test_a_server_that_fails_to_start_is_shown_with_its_own_error(copy):
    replace(copy, 'server/ServerPython.py', "def start_server(", "def start_server(:")
    done = make(copy, 'tcp')
    replace(copy, 'server/ServerPython.py', "def start_server(:", "def start_server(")
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == 'the server stopped; what it printed:'
    assert 'SyntaxError: invalid syntax' in done.stderr



def test_an_edited_client_with_two_sends_gets_a_ladder_naming_both(copy):
    """The ladder names the learner's own calls: two sendall()s, two packets, each named."""
    replace(copy, 'client/ClientPython.py', "    sock.sendall(b'Hello, world')\n",
            "    sock.sendall(b'Hello, ')\n    sock.sendall(b'world')\n")
    done = make(copy, 'capture')
    replace(copy, 'client/ClientPython.py', "    sock.sendall(b'Hello, ')\n    sock.sendall(b'world')\n",
            "    sock.sendall(b'Hello, world')\n")
    assert done.returncode == 0, done.stderr
    named = [re.search(r'<- client: (.*?) at ', line).group(1) for line in done.stdout.splitlines() if '<- client: ' in line]
    # What the client sent, in order: the server's echo of the first send may come back before the second
    # send leaves (under the suite's load it did), and its packet is named by the client's recv().
    sends = [name for name in named if not name.startswith('recv(')]
    assert sends[:3] == ['connect()', "sendall(b'Hello, ')", "sendall(b'world')"] and sends[-1] == 'close()', done.stdout
    sent = [line for line in done.stdout.splitlines() if "client: sendall(" in line]
    assert "len=7 b'Hello, '" in sent[0] and "len=5 b'world'" in sent[1]

def speed_things():
    """The containers and image tags of make speed's copies now on the engine."""
    client = engine.client()
    prefixes = ('socket-lab-speed-', sweep.image_prefix(os.environ['SOCKET_LAB_RUN']) + 'speed-')
    return ({c.attrs['Names'][0][1:] for c in client.containers.list(all=True, sparse=True)
             if c.attrs['Names'][0][1:].startswith(prefixes)},
            {t for i in client.images.list() for t in i.tags if t.startswith(prefixes)})


@pytest.mark.measure  # it times make (figures only, asserted none): after the rest of the suite
def test_make_speed_measures_on_a_copy_and_leaves_nothing():
    before = speed_things()  # this module's own copy, above
    results = ROOT / 'results' / '.test-{}-speed'.format(os.environ['SOCKET_LAB_RUN'])
    tracked = subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout
    done = subprocess.run(['make', 'speed', 'SPEED_ARGS=--runs 1 --composes v2 --no-cold --no-suite',
                           'RESULTS=' + str(results.relative_to(ROOT))], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=person_env())
    try:
        assert done.returncode == 0, done.stderr
        (folder,) = results.iterdir()
        speed = json.loads((folder / 'speed.json').read_text())
        (figures,) = speed['runs']['v2']
        assert set(figures) == {'warm_lab_s', 'floor_s', 'tcp_s', 'edit_client_tcp_s', 'edit_server_tcp_s'}
        assert all(value > 0 for value in figures.values())
        assert 'make tcp, warm' in done.stdout and speed['machine']['composes']['v2'].startswith(('docker compose', 'Compose v2'))
    finally:
        shutil.rmtree(results, ignore_errors=True)
    assert subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout == tracked
    assert speed_things() == before


def test_another_checkouts_lab_of_the_same_name_is_refused_and_untouched(copy):
    """Two clones on one engine: this checkout's make, given the copy's project name, changes nothing."""
    assert make(copy, 'lab').returncode == 0
    server = engine.service_container(copy.project, 'server')
    for target in ('lab', 'tcp', 'impair', 'down'):
        output, status = run(copy.project, target, *(['LOSS=100'] if target == 'impair' else []))
        assert status == 2 and len(output) == 2 and output[0].startswith(
            'LAB_PROJECT {} is the lab of another checkout ({}): nothing changed'.format(copy.project, copy.folder)), output
    assert engine.service_container(copy.project, 'server').id == server.id
    assert make(copy, 'tcp').stdout.endswith("Received: b'Hello, world'\n")


def test_make_clean_keeps_the_images_another_lab_uses(copy):
    output, status = run(project_name('-clean'), 'clean', 'LAB_IMAGES=' + copy.images)
    assert status == 0 and output[-1] == ('Kept the images {}/*: containers of another lab still use them '
                                          '(make down there first).'.format(copy.images)), output
    assert all(engine.client().images.get('{}/{}'.format(copy.images, name)) for name in ('base', 'server', 'client', 'netcat'))


def test_a_second_clone_gets_a_lab_name_of_its_own_while_the_default_is_taken(copy):
    """As if the copy's running lab had the default name: this checkout's make, given no LAB_PROJECT,
    means a lab of its own name (nothing written: the engine's labels are the record); given the name,
    it refuses. (In-process: the suite never uses the default name, a person's own lab may have it.)"""
    taken = Settings.from_environment({'LAB_PROJECT': copy.project})
    own = lab.own_project(taken, named=False)
    assert own.project == lab.own_name(copy.project) == '{}-{}'.format(copy.project, hashlib.sha256(str(ROOT).encode()).hexdigest()[:6])
    with pytest.raises(SettingError, match='is the lab of another checkout'):
        lab.own_project(taken, named=True)
    free = Settings.from_environment({'LAB_PROJECT': project_name('-free')})
    assert lab.own_project(free, named=False) == free  # the default, where nobody runs it


def test_a_copy_of_the_project_holds_everything_the_repository_tracks_but_its_ci():
    """make speed's copy runs make test: the suite reads the README and the guides (their transcripts),
    so a copy without docs/ measured a failing suite."""
    from socketlab.measure.speed import COPIED
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    if not tracked:
        pytest.skip('not a git checkout')
    assert {path.split('/')[0] for path in tracked} - set(COPIED) <= {'.ci', '.gitignore'}
