"""The Engine where the docker CLI finds it: DOCKER_HOST, else the CLI's current context (Docker Desktop
on Linux and colima name their socket only there). Host-side, on a DOCKER_CONFIG of the test's own laid
out as docker lays it out; then through make, which must ask the context's Engine, not the default one."""
import hashlib
import json
import subprocess

import pytest

from socketlab import context
from socketlab.engine import EngineMissing
from socketlab.paths import ROOT

from makeplay import SILENCE, person_env, project_name


def write_context(config, name, host, tls=None, skip=False, current=None):
    """A context as `docker context create NAME --docker host=HOST` writes it (and `docker context use`)."""
    ident = hashlib.sha256(name.encode()).hexdigest()
    meta = config / 'contexts' / 'meta' / ident
    meta.mkdir(parents=True)
    endpoint = {'Host': host, 'SkipTLSVerify': skip}
    (meta / 'meta.json').write_text(json.dumps({'Name': name, 'Metadata': {}, 'Endpoints': {'docker': endpoint}}))
    if tls:
        folder = config / 'contexts' / 'tls' / ident / 'docker'
        folder.mkdir(parents=True)
        for file in ('ca.pem', 'cert.pem', 'key.pem'):
            (folder / file).write_text('')
    if current:
        (config / 'config.json').write_text(json.dumps({'auths': {}, 'currentContext': current}))


# (what the environment and config.json say) -> what the lab adds to its environment, or its one line.
CASES = [
    ('nothing at all: the default socket', {}, None, {}),
    ('config.json chose the default context', {}, 'default', {}),
    ('config.json chose desktop-linux', {}, 'desktop-linux', {'DOCKER_HOST': 'unix:///home/me/.docker/desktop/docker.sock'}),
    ('DOCKER_CONTEXT wins over config.json', {'DOCKER_CONTEXT': 'colima'}, 'desktop-linux',
     {'DOCKER_HOST': 'unix:///home/me/.colima/default/docker.sock'}),
    ('DOCKER_HOST wins over both, as for the CLI', {'DOCKER_HOST': 'tcp://10.0.0.5:2375', 'DOCKER_CONTEXT': 'colima'},
     'desktop-linux', {}),
    ('DOCKER_CONTEXT=default with a current context elsewhere', {'DOCKER_CONTEXT': 'default'}, 'desktop-linux', {}),
    ('a context with TLS material', {'DOCKER_CONTEXT': 'remote'}, None, {'DOCKER_HOST': 'tcp://10.0.0.9:2376',
                                                                        'DOCKER_CERT_PATH': 'TLS', 'DOCKER_TLS_VERIFY': '1'}),
    ('a context there is no trace of', {'DOCKER_CONTEXT': 'gone'}, None,
     'the docker context gone has no Engine endpoint here: `docker context ls` lists'),
    ('a name no context can have', {'DOCKER_CONTEXT': '../../etc'}, None, "bad docker context '../../etc'"),
    ('a context that skips the certificate check', {'DOCKER_CONTEXT': 'careless'}, None,
     "the docker context careless skips the check of its Engine's certificate"),
]


@pytest.mark.parametrize('environ, current, expected', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_engine_is_the_current_contexts(tmp_path, environ, current, expected):
    write_context(tmp_path, 'desktop-linux', 'unix:///home/me/.docker/desktop/docker.sock', current=current)
    write_context(tmp_path, 'colima', 'unix:///home/me/.colima/default/docker.sock')
    write_context(tmp_path, 'remote', 'tcp://10.0.0.9:2376', tls=True)
    write_context(tmp_path, 'careless', 'tcp://10.0.0.9:2376', tls=True, skip=True)
    environ = {**environ, 'DOCKER_CONFIG': str(tmp_path)}
    if isinstance(expected, str):
        with pytest.raises(EngineMissing, match='^' + expected.replace('(', r'\(')):
            context.endpoint(environ)
        return
    if 'DOCKER_CERT_PATH' in expected:
        expected = {**expected, 'DOCKER_CERT_PATH': str(tmp_path / 'contexts' / 'tls' /
                                                       hashlib.sha256(b'remote').hexdigest() / 'docker')}
    assert context.endpoint(environ) == expected


def test_a_broken_config_json_is_the_default_context(tmp_path):
    (tmp_path / 'config.json').write_text('{not json')
    assert context.endpoint({'DOCKER_CONFIG': str(tmp_path)}) == {}
    (tmp_path / 'config.json').write_text('[]')
    assert context.endpoint({'DOCKER_CONFIG': str(tmp_path)}) == {}


@pytest.mark.docker
@pytest.mark.parametrize('target', ['status', 'tcp'])  # the docker SDK's way, and socketlab.api's (make tcp)
def test_make_asks_the_current_contexts_engine(tmp_path, target):
    """With DOCKER_HOST unset and a context chosen by `docker context use`, make reaches the Engine of that
    context (a socket that is not there: its one line names it) and nothing else."""
    socket = tmp_path / 'nowhere' / 'docker.sock'
    write_context(tmp_path, 'elsewhere', 'unix://' + str(socket), current='elsewhere')
    env = {key: value for key, value in person_env().items() if not key.startswith('DOCKER_') or key == 'DOCKER_BUILDKIT'}
    env.update(DOCKER_CONFIG=str(tmp_path), LAB_PROJECT=project_name('-context'))
    done = subprocess.run(['make', target], cwd=ROOT, env=env, capture_output=True, text=True, timeout=SILENCE)
    assert done.returncode == 2, done.stdout + done.stderr  # make says its recipe failed
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[-1].startswith('make: ***'), done.stderr
    assert lines[0].startswith('Docker Engine is not reachable at unix://{}: start it'.format(socket)), done.stderr
