"""Gradescope's autograder zip, run as Gradescope runs it: unpacked at /autograder/source in a plain
container (the lab's C server image: the base image's python3, bash, nc and openssl, and gcc) with no
Docker socket and no network, setup.sh, then /autograder/run_autograder on a submission; its
results.json read as Gradescope reads it."""
import json
import os
import shutil

import pytest

from socketlab import engine, gradescope, sweep
from socketlab.paths import LESSON_FILES, ROOT

pytestmark = pytest.mark.docker
AS_GRADESCOPE = '''set -e
mkdir -p /autograder/source /autograder/submission /autograder/results
cd /autograder/source
python3 -c 'import zipfile; zipfile.ZipFile("/zip/autograder.zip").extractall()'
chmod +x setup.sh run_autograder && cp run_autograder /autograder/
cp -r /learner/. /autograder/submission/
./setup.sh
/autograder/run_autograder > /autograder/results/run.txt
cat /autograder/results/results.json
'''


@pytest.fixture(scope='module')
def autograder(tmp_path_factory):
    return gradescope.build(tmp_path_factory.mktemp('gradescope') / 'autograder.zip')


def graded(autograder, tmp_path, files):
    learner = tmp_path / 'learner'
    learner.mkdir()
    for name, text in files.items():
        (learner / name).write_text(text)
    from docker.types import Mount
    output = engine.client().containers.run(
        'socket-lab/server-c', entrypoint=['bash', '-c', AS_GRADESCOPE], user='0', network_mode='none', cap_drop=['ALL'], remove=True,
        labels={engine.RUN_LABEL: sweep.new_run()}, mem_limit='512m', pids_limit=256,
        mounts=[Mount('/zip/autograder.zip', str(autograder), type='bind', read_only=True),
                Mount('/learner', str(learner), type='bind', read_only=True)])
    return json.loads(output)


def test_the_lessons_programs_as_printed_score_every_point_without_docker(autograder, tmp_path):
    result = graded(autograder, tmp_path, {'ClientPython.py': (LESSON_FILES / 'ClientPython-tcp.py').read_text(),
                                           'ServerPython.py': (LESSON_FILES / 'ServerPython-lesson2.py').read_text()})
    assert [(t['name'], t['status']) for t in result['tests']] == [
        ('client-tcp', 'passed'), ('client-tcp-against-nc', 'passed'), ('server-start-port', 'passed'),
        ('server-echo', 'passed'), ('server-one-client-at-a-time', 'passed')]
    assert result['score'] == sum(t['max_score'] for t in result['tests']) == 7
    assert all(set(t) == {'name', 'score', 'max_score', 'status', 'output', 'visibility'} for t in result['tests'])


def test_lesson_7s_programs_as_printed_score_their_tls_stages_without_docker(autograder, tmp_path):
    """Lesson 7's server and its client with the check off: the certificates made on the one host (its
    openssl, socketlab/certificates.sh), the server run in the folder of the pair it opens."""
    result = graded(autograder, tmp_path, {'ClientPython.py': (LESSON_FILES / 'ClientPython-tls-no-check.py').read_text(),
                                           'ServerPython.py': (LESSON_FILES / 'ServerPython-tls.py').read_text()})
    assert [(t['name'], t['status']) for t in result['tests']] == [
        ('server-start-port', 'passed'), ('client-tls', 'passed'), ('server-tls', 'passed')], result
    assert result['score'] == sum(t['max_score'] for t in result['tests']) == 5


def test_lesson_7s_menu_client_scores_its_upload_and_query_without_docker(autograder, tmp_path):
    """Lesson 7's menu client, typed into on the one host's terminal (a pty), against the lab's RecordServer."""
    result = graded(autograder, tmp_path, {'ClientPython.py': (LESSON_FILES / 'ClientPython-menu.py').read_text()})
    assert [(t['name'], t['status'], t['score']) for t in result['tests']] == [('client-upload-and-query', 'passed', 3)], result


def test_lesson_9s_server_in_c_as_printed_scores_its_stage_without_docker(autograder, tmp_path):
    """ServerC.c built with the one host's gcc, as the lesson builds it, and judged by its echo."""
    result = graded(autograder, tmp_path, {'ServerC.c': (LESSON_FILES / 'ServerC.c').read_text()})
    assert [(t['name'], t['status'], t['score']) for t in result['tests']] == [('server-c-echo', 'passed', 2)], result


def test_a_client_that_sends_a_str_scores_lower_with_its_reason(autograder, tmp_path):
    client = (LESSON_FILES / 'ClientPython-tcp.py').read_text().replace("sock.sendall(b'Hello, world')", "sock.sendall('Hello, world')")
    result = graded(autograder, tmp_path, {'ClientPython.py': client})
    tests = {t['name']: t for t in result['tests']}
    assert result['score'] == 0 and tests['client-tcp']['status'] == 'failed'
    assert "TypeError: a bytes-like object is required, not 'str'" in tests['client-tcp']['output']


def test_an_empty_submission_gets_0_and_a_reason(autograder, tmp_path):
    result = graded(autograder, tmp_path, {})
    assert (result['score'], result['tests']) == (0, []) and result['output'].startswith('Nothing to judge')


def test_make_gradescope_writes_the_zip_into_results():
    import subprocess
    from makeplay import SILENCE, person_env
    results = ROOT / 'results' / '.test-{}-gradescope'.format(os.environ.get('SOCKET_LAB_RUN', 'x'))
    try:
        done = subprocess.run(['make', 'gradescope', 'RESULTS=' + str(results.relative_to(ROOT))], cwd=ROOT, env=person_env(),
                              capture_output=True, text=True, timeout=SILENCE)
        assert done.returncode == 0, done.stderr
        import zipfile
        names = zipfile.ZipFile(results / 'gradescope-autograder.zip').namelist()
        assert {'setup.sh', 'run_autograder', 'socketlab/onehost.py', 'tests/exchanges.json', 'tests/checks.json',
                'tests/lesson/ClientPython-tcp.py', 'server/ServerPython.py', 'socketlab/certificates.sh'} <= set(names)
    finally:
        shutil.rmtree(results, ignore_errors=True)
