"""make check: the lessons' exchanges judge a learner's programs. The lab's own programs and the
lessons' as printed pass; the mistakes a learner makes fail, each with the line that says where, a
junit failure and a lower Gradescope score. Host-side: the outputs' formats and the refused values."""
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from socketlab import check
from socketlab.paths import LESSON_FILES, ROOT
from socketlab.settings import SettingError
from makeplay import checked_the_same, containers, person_env

CHECKS = check.load_checks()
POINTS = {c['stage']: c['points'] for c in CHECKS}


def submission(tmp_path, client=None, server=None, edit=None, server_c=None):
    """A learner's folder: the lesson's files (tests/lesson/), one of them edited (EDIT: (old, new))."""
    folder = tmp_path / 'learner'
    folder.mkdir()
    for name, source in (('ClientPython.py', client), ('ServerPython.py', server), ('ServerC.c', server_c)):
        if source:
            text = (LESSON_FILES / source).read_text()
            if edit and edit[0] in text:
                text = text.replace(*edit)
            (folder / name).write_text(text)
    return folder


def make_check(results, *args):
    done = subprocess.run(['make', 'check', 'RESULTS=' + str(results.relative_to(ROOT)), *args], cwd=ROOT,
                          env=person_env(), capture_output=True, text=True, timeout=600)
    folder = ROOT / done.stdout.splitlines()[-1].split('Results in ')[1].split(':')[0] if 'Results in' in done.stdout else None
    return done, folder


@pytest.fixture
def results():
    folder = ROOT / 'results' / '.test-{}-check-{}'.format(os.environ.get('SOCKET_LAB_RUN', 'x'), os.getpid())
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def verdicts(folder):
    """{stage: (status, score, max_score, output)} from results.json, and junit's failures by name."""
    graded = json.loads((folder / 'results.json').read_text())
    tests = {t['name']: (t['status'], t['score'], t['max_score'], t['output']) for t in graded['tests']}
    suite = ElementTree.parse(folder / 'junit.xml').getroot().find('testsuite')
    failures = {case.get('name'): case.find('failure').get('message') for case in suite.iter('testcase')
                if case.find('failure') is not None}
    return graded['score'], tests, failures


# The stages the lab's own programs are at (server/ServerC.c, lesson 9's, is the lab's too).
LABS_OWN_STAGES = {'client-tcp', 'client-tcp-against-nc', 'server-start-port', 'server-echo', 'server-one-client-at-a-time',
                   'server-c-echo'}


@pytest.mark.docker
def test_the_labs_own_programs_pass_every_stage_they_are_at(results):
    done, folder = make_check(results)
    assert done.returncode == 0, done.stdout + done.stderr
    score, tests, failures = verdicts(folder)
    assert set(tests) == LABS_OWN_STAGES and not failures
    assert score == sum(POINTS[stage] for stage in LABS_OWN_STAGES)


# The lessons' own files as printed (or with the smallest fix a lesson needs), each submitted alone to make
# check, and the stages each passes, every other stage left unplayed: (its client, its server, its stages).
# Each stage plays its exchange of tests/exchanges.yaml exactly as the catalogue has it (the same files:
# test_the_stages_the_lessons_files_pass_play_their_exchanges_as_catalogued), so tests/test_exchanges.py
# does not play those exchanges a second time (AS_CATALOGUED).
LESSONS_FILES_PASS = [
    pytest.param({'client': 'ClientPython-tcp.py'}, {'client-tcp', 'client-tcp-against-nc'}, 'l3', id='tcp-client'),
    pytest.param({'server': 'ServerPython-lock.py'}, {'server-start-port', 'server-lock'}, None, id='lock'),
    pytest.param({'server': 'ServerPython-counter.py'}, {'server-start-port', 'server-counter'}, None, id='counter'),
    pytest.param({'server': 'ServerPython-select.py'}, {'server-start-port', 'server-select'}, None, id='select'),
    pytest.param({'server': 'ServerPython-poll.py'}, {'server-start-port', 'server-poll'}, None, id='poll'),
    pytest.param({'server': 'ServerPython-pool.py'}, {'server-start-port', 'server-thread-pool'}, None, id='thread-pool'),
    # lesson 7's client at its first run (the check refuses the lesson's certificate, as the lesson shows)
    # and at its second (the check off), with lesson 7's server: each judged by its own step's exchange
    pytest.param({'client': 'ClientPython-tls.py'}, {'client-tls-refused'}, None, id='tls-client'),
    pytest.param({'client': 'ClientPython-tls-no-check.py', 'server': 'ServerPython-tls.py'},
                 {'server-start-port', 'client-tls', 'server-tls'}, 'l7', id='tls-client-check-off-and-tls-server'),
    # lesson 7's menu client with both fixes: the stage of its step (and no TCP stage)
    pytest.param({'client': 'ClientPython-menu.py'}, {'client-upload-and-query'}, 'l7m', id='menu-client'),
    # lesson 9's ServerC.c alone (gcc 12 warns and builds it): judged by its echo
    pytest.param({'server-c': 'ServerC.c'}, {'server-c-echo'}, None, id='c-server'),
]
# What a passed stage says when the lesson's terminals were one machine: {stage: its line in make check's table}.
ON_ONE_HOST = {
    'client-tcp': "passed, run on the server's host: it connects to 'localhost', as in the lesson's terminals",
    'server-c-echo': "passed, its clients on its host: they connect to 'localhost', as in the lesson's terminals",
}


def as_catalogued():
    """The exchanges LESSONS_FILES_PASS's stages play exactly as tests/exchanges.yaml has them."""
    from socketlab import catalogue
    exchanges = catalogue.load_catalogue()
    stages = {c['stage']: c for c in CHECKS}
    found = set()
    for entry in LESSONS_FILES_PASS:
        names, passed, _ = entry.values
        files = {kind: LESSON_FILES / names[kind] if kind in names else None for kind in check.FILES}
        for stage in passed:
            name = stages[stage]['exchange']
            if _named(check.judged(exchanges[name], stages[stage], files)) == _named(exchanges[name]):
                found.add(name)
    return found


def _named(exchange):
    """The exchange with each role's file by its name (the catalogue names tests/lesson/'s; make check its copy's path)."""
    exchange = json.loads(json.dumps(exchange))
    for role in exchange['roles'].values():
        if 'file' in role:
            role['file'] = os.path.basename(role['file'])
    return exchange


AS_CATALOGUED = as_catalogued()


def test_the_stages_the_lessons_files_pass_play_their_exchanges_as_catalogued():
    """What make check proves in place of tests/test_exchanges.py: the lesson-4 loops among them (the lesson's
    own 100 clients per loop), lesson 7's and lesson 9's."""
    assert AS_CATALOGUED == {'lesson-client-as-printed', 'lesson-client-against-nc-as-printed', 'lesson-4-lock-as-printed-two-loops',
                             'lesson-4-counter-as-printed-one-loop', 'lesson-4-select-with-its-fix-two-loops',
                             'lesson-4-poll-with-its-fix-two-loops', 'lesson-4-pool-as-printed-two-loops-then-ctrl-c',
                             'lesson-7-tls-as-printed-check-off', 'lesson-7-tls-as-printed-certificate-refused',
                             'lesson-7-menu-upload-and-query', 'lesson-9-server-echoes-the-lessons-client'}


# The instructor's guide's `make check SUBMISSION=/tmp/sub/NAME ...` blocks (docs/instructor.md): each is a
# case of a test below (NAME, its submission made as the block's comment says), run once, and what it
# prints compared with the block line by line (this run's time, folder, addresses and ports put in).
GUIDE = ROOT / 'docs' / 'instructor.md'


def guide_blocks():
    """{NAME: (make check's arguments after SUBMISSION, the lines the block shows after its command)}."""
    import shlex
    blocks = [block for block in GUIDE.read_text().split('```\n')[1::2] if block.startswith('$ make check SUBMISSION=/tmp/sub/')]
    found = {}
    for block in blocks:
        command, *shown = block.splitlines()
        args = shlex.split(command[len('$ make check'):], comments=True)
        found[args[0].rpartition('/')[2]] = (args[1:], shown)
    return found


def checked(results, folder, block=None, only=()):
    """make check of FOLDER (with the guide's BLOCK's own arguments, or ONLY), what it printed compared with
    the block's lines; (done, its results folder)."""
    args = guide_blocks()[block][0] if block else list(only)
    done, results_folder = make_check(results, 'SUBMISSION=' + str(folder), *args)
    if block:
        printed = done.stdout.splitlines() + done.stderr.splitlines()  # make's own last line, as a person sees it
        assert checked_the_same(printed) == checked_the_same(guide_blocks()[block][1]), done.stdout + done.stderr
    return done, results_folder


def test_every_check_block_of_the_instructors_guide_is_replayed_here():
    replayed = [entry.values[2] for entry in LESSONS_FILES_PASS] + [entry.values[-1] for entry in MISTAKES]
    assert sorted(name for name in replayed if name) == sorted(guide_blocks())


@pytest.mark.docker
@pytest.mark.parametrize('names, passed, block', LESSONS_FILES_PASS)
def test_the_lessons_files_pass_the_stages_of_their_step_and_only_them(results, tmp_path, names, passed, block):
    """Which stages are played is what each file is at (a server by what its start_server() calls, a client
    by its transport and its step); each of them passes, its exchange played as the lesson shows it."""
    folder = submission(tmp_path, names.get('client'), names.get('server'), server_c=names.get('server-c'))
    done, results_folder = checked(results, folder, block)
    assert done.returncode == 0, done.stdout + done.stderr
    score, tests, failures = verdicts(results_folder)
    assert set(tests) == passed and not failures
    assert score == sum(POINTS[stage] for stage in passed)
    for stage in passed & set(ON_ONE_HOST):  # the lesson's programs talk to 'localhost': run on one host, said so
        assert tests[stage][3] == 'as the lesson shows' + ON_ONE_HOST[stage].removeprefix('passed')
        assert '{:<28} {:>5}  {}'.format(stage, '{0}/{0}'.format(POINTS[stage]), ON_ONE_HOST[stage]) in done.stdout.splitlines(), \
            done.stdout


@pytest.mark.docker
def test_lesson_7s_menu_client_as_printed_fails_its_stage_where_its_output_leaves_the_lessons(results, tmp_path):
    """As printed, the menu client fails the stage of its step with the line where its output leaves the
    lesson's: sock.htons's error."""
    done, folder = make_check(results, 'SUBMISSION=' + str(submission(tmp_path, 'ClientPython-menu-as-printed.py', None)))
    assert done.returncode == 2, done.stdout + done.stderr  # make's status for a target that failed
    score, tests, failures = verdicts(folder)
    assert score == 0 and "Error: 'socket' object has no attribute 'htons'" in failures['client-upload-and-query']


# (the learner's files, their edit, the stage, the line that says where; what the capture showed, or
# None where the wire is as the lesson's and the difference is in what a program printed; the guide's
# block that shows it, or None: then make check is asked for that stage alone)
MISTAKES = [
    pytest.param(('ClientPython-tcp.py', None), ("sock.sendall(b'Hello, world')", "sock.sendall('Hello, world')"), 'client-tcp',
                 "client: TypeError: a bytes-like object is required, not 'str'", 'the wire: your client sent no data', None,
                 id='client-sends-a-str'),
    pytest.param(('ClientPython-tcp.py', None), ("print('Received:', data)", "print('Received:', data.decode())"), 'client-tcp',
                 "client printed: Received: Hello, world  where the lesson prints: Received: b'Hello, world'", None, None,
                 id='client-prints-decoded-text'),
    pytest.param((None, 'ServerPython-lesson2.py'), ('conn.sendall(data)', 'conn.sendall(data[:-1])'), 'server-echo',
                 "nc: 'Hello\\nHello\\n' did not show; the terminal shows 'Hello\\nHello'",
                 'the wire: your server sent back 5 of the 6 bytes it received', 'drop', id='server-drops-the-last-byte'),
    pytest.param((None, 'ServerPython-lesson2.py'), ('print("Received new connection from ", addr)',
                                                     'print("Received new connection from", addr)'),
                 'server-echo', "server printed: Received new connection from ('127.0.0.1', ", None, 'space', id='server-lost-a-space'),
    pytest.param((None, 'ServerPython-lesson2.py'), ('import re\n', 'import ree\n'), 'server-echo',
                 "the server exited (status 1) before printing its start line; server: ModuleNotFoundError: No module named 'ree'",
                 None, None, id='server-stops-before-its-start-line'),
]


@pytest.mark.docker
@pytest.mark.parametrize('files, edit, stage, why, wire, block', MISTAKES)
def test_a_learners_mistake_fails_its_stage_with_the_line_that_says_where(results, tmp_path, files, edit, stage, why, wire, block):
    assert edit[0] in (LESSON_FILES / (files[0] or files[1])).read_text()
    done, folder = checked(results, submission(tmp_path, *files, edit=edit), block, only=['ONLY=' + stage])
    # the lab's exit 1, which make reports as its own 2
    assert done.returncode == 2 and done.stderr.rstrip().endswith('Error 1'), done.stdout + done.stderr
    score, tests, failures = verdicts(folder)
    assert tests[stage][:3] == ('failed', 0, POINTS[stage])
    assert score == sum(POINTS[name] for name, test in tests.items() if test[0] == 'passed')
    assert why in failures[stage] and why in tests[stage][3], failures
    assert why in done.stdout
    if wire:
        assert failures[stage].endswith('; ' + wire), failures[stage]
    else:
        assert 'the wire:' not in failures[stage], failures[stage]


def test_outputs_follow_their_formats():
    rows = [check.Row('client-tcp', 2, passed=True, why='as the lesson shows', seconds=1.5),
            check.Row('server-echo', 2, passed=False, why="server printed: x  where the lesson prints: y"),
            check.Row('server-lock', 2, played=False, why='the server is at the simple stage')]
    graded = json.loads(check.gradescope(rows))
    assert graded == {'score': 2, 'tests': [
        {'name': 'client-tcp', 'score': 2, 'max_score': 2, 'status': 'passed', 'output': 'as the lesson shows', 'visibility': 'visible'},
        {'name': 'server-echo', 'score': 0, 'max_score': 2, 'status': 'failed', 'output': "server printed: x  where the lesson prints: y",
         'visibility': 'visible'}]}
    suite = ElementTree.fromstring(check.junit(rows)).find('testsuite')
    assert (suite.get('tests'), suite.get('failures'), suite.get('skipped')) == ('3', '1', '1')
    cases = {case.get('name'): case for case in suite.iter('testcase')}
    assert cases['server-echo'].find('failure').get('message') == "server printed: x  where the lesson prints: y"
    assert cases['server-lock'].find('skipped') is not None and cases['client-tcp'].find('failure') is None
    assert check.summary(rows).splitlines()[-1] == 'Score: 2 of 4.'
    assert 'output' in json.loads(check.gradescope([]))  # an empty submission: 0, and a reason


def test_a_failed_steps_line_leaves_the_output_out_and_names_each_programs_last_error():
    class Role:
        def __init__(self, err):
            self.err = err

        def stderr(self):
            return self.err

    class Lab:
        roles = {'server': Role('Traceback (most recent call last):\nKeyError: <socket.socket [closed]>\n'), 'loop1': Role('')}
    for quoted in ('"Starting client...\\nReceived: b\'Hello, world\'"', "'Starting client...'"):
        error = AssertionError('loop1 exited with 1, not 0: stdout {}, stderr \'\''.format(quoted))
        assert check._why(error, Lab()) == 'loop1 exited with 1, not 0; server: KeyError: <socket.socket [closed]>'


def test_bad_values_are_refused_before_anything_runs(tmp_path):
    with pytest.raises(SettingError, match='^bad ONLY'):
        check.only('client-tcp,nope', CHECKS)
    with pytest.raises(SettingError, match='^bad SUBMISSION'):
        check.submission(str(tmp_path / 'missing'))
    (tmp_path / 'ClientPython.py').symlink_to('/etc/passwd')
    with pytest.raises(SettingError, match='not a plain file'):
        check.submission(str(tmp_path))
    with pytest.raises(SettingError, match='^bad POINTS'):
        check.points('../outside.yaml', CHECKS)


HOSTILE = {
    'alice': {'ClientPython.py': (LESSON_FILES / 'ClientPython-tcp.py').read_text(),
              'ServerPython.py': (LESSON_FILES / 'ServerPython-lesson2.py').read_text()},
    'bob': {'ClientPython.py': (LESSON_FILES / 'ClientPython-tcp.py').read_text().replace(
        "sock.sendall(b'Hello, world')", "sock.sendall('Hello, world')")},
    'carol': {},
    # a fork bomb for a server, an endless printer for a client, a client that looks around the machine
    'dave': {'ServerPython.py': 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n'},
    'eve': {'ClientPython.py': "while True:\n    print('x' * 1000)\n"},
    'frank': {'ClientPython.py': "import os\nprint('docker.sock:', os.path.exists('/var/run/docker.sock'), "
                                 "'root:', os.getuid() == 0, 'host files:', os.path.exists('/work'))\n"},
    'bad name!': {'ClientPython.py': 'print(1)\n'},
}


@pytest.mark.docker
def test_make_grade_grades_a_hostile_class_contained_and_leaves_nothing(tmp_path, results):
    from socketlab import engine
    for learner, files in HOSTILE.items():
        (tmp_path / learner).mkdir()
        for name, text in files.items():
            (tmp_path / learner / name).write_text(text)
    done = subprocess.run(['make', 'grade', 'SUBMISSIONS=' + str(tmp_path), 'ONLY=client-tcp,server-echo', 'AT_ONCE=3',
                           'RESULTS=' + str(results.relative_to(ROOT))], cwd=ROOT, env=person_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = ROOT / done.stdout.splitlines()[-1].split('Results in ')[1].split(':')[0]
    with open(folder / 'grades.csv') as f:
        grades = {row['learner']: row for row in __import__('csv').DictReader(f)}
    assert set(grades) == set(HOSTILE)
    assert (grades['alice']['client-tcp'], grades['alice']['server-echo'], grades['alice']['score']) == ('2', '2', '4')
    assert (grades['bob']['client-tcp'], grades['bob']['score']) == ('0', '0')
    assert grades['carol']['reason'] == 'no ClientPython.py, ServerPython.py or ServerC.c in the folder'
    assert grades['bad name!']['reason'].startswith('the folder name is not plain')
    assert (grades['dave']['server-echo'], grades['eve']['client-tcp'], grades['frank']['client-tcp']) == ('0', '0', '0')
    said = {name: json.loads((folder / name / 'results.json').read_text())['tests'][0]['output'] for name in ('dave', 'eve')}
    assert said == {'dave': "the server never printed its start line within 30 s (it printed: '')",
                    'eve': 'client did not exit within 30 s; the wire: your client opened no connection and sent nothing'}
    frank = json.loads((folder / 'frank' / 'results.json').read_text())['tests'][0]['output']
    assert 'docker.sock: False root: False host files: False' in frank, frank
    assert '<th>alice</th>' in (folder / 'grades.html').read_text()
    run = os.environ['SOCKET_LAB_RUN']
    assert containers(lambda labels: labels.get(engine.RUN_LABEL, '').startswith(run + '-grade-')) == []


CLASSROOM = ROOT / 'docs' / 'classroom.yml'


def classroom_steps():
    import yaml
    steps = yaml.safe_load(CLASSROOM.read_text())['jobs']['run-autograding-tests']['steps']
    return [s for s in steps if s.get('uses', '').startswith('classroom-resources/autograding-command-grader')], steps[-1]


def test_the_classroom_workflow_names_stages_that_exist_with_their_points():
    graders, reporter = classroom_steps()
    assert graders and reporter['uses'].startswith('classroom-resources/autograding-grading-reporter@')
    for step in graders:
        stage = step['id']
        assert step['with']['command'] == 'make check ONLY=' + stage and step['with']['test-name'] == stage
        assert step['with']['max-score'] == POINTS[stage]
    assert reporter['with']['runners'].split(',') == [step['id'] for step in graders]
    assert reporter['env'] == {step['id'].upper() + '_RESULTS': '${{steps.%s.outputs.result}}' % step['id'] for step in graders}


@pytest.mark.docker
def test_the_classroom_workflows_commands_pass_here_on_the_labs_own_programs(results):
    """Each command is make check ONLY=its stage (above), a stage the lab's own programs pass (make check of
    them all, test_the_labs_own_programs_pass_every_stage_they_are_at); the first runs here as the runner
    runs it, and passes that stage alone."""
    graders, _ = classroom_steps()
    assert {step['id'] for step in graders} <= LABS_OWN_STAGES
    step = graders[0]
    done = subprocess.run(step['with']['command'].split(), cwd=ROOT, capture_output=True, text=True,
                          env=person_env(RESULTS=str(results.relative_to(ROOT))), timeout=step['with']['timeout'] * 60)
    assert done.returncode == 0, done.stdout + done.stderr
    folder = ROOT / done.stdout.splitlines()[-1].split('Results in ')[1].split(':')[0]
    score, tests, failures = verdicts(folder)
    assert set(tests) == {step['id']} and not failures and score == step['with']['max-score']
