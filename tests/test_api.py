"""socketlab.api, the learner's loop's way to the Engine (the standard library alone), against the real
Engine: a one-off container's whole run, the Engine's refusals, where it finds the Engine (that a warm
make tcp imports no docker SDK, what socketlab.api is for, is tests/test_make.py's)."""
import uuid

import pytest

from conftest import RUN
from socketlab import api, containers, engine, sweep


@pytest.mark.docker
@pytest.mark.parametrize('tty', [False, True])
def test_a_run_attached_before_its_start_gets_all_its_output_and_its_status(settings, tty):
    name = '{}{}-api-{}'.format(sweep.RUN_PROJECT_PREFIX, RUN, uuid.uuid4().hex[:8])
    program = 'echo out; echo err >&2; echo "$(seq 3000)"; exit 3'  # more than one frame, and a status of its own
    made = containers.create_id({'image': settings.image('client')}, name, ['-c', program], entrypoint=['sh'],
                                labels={engine.RUN_LABEL: RUN}, tty=tty)
    try:
        stream = api.attach(made, tty)
        api.start(made)
        chunks = list(stream)
        assert api.wait(made) == 3
        out = b''.join(o for o, _ in chunks if o)
        err = b''.join(e for _, e in chunks if e)
        numbers = ''.join('{}\n'.format(n) for n in range(1, 3001)).encode()
        if tty:  # one stream, the terminal's, its line ends \r\n
            assert out.replace(b'\r\n', b'\n') == b'out\nerr\n' + numbers and err == b''
        else:
            assert out == b'out\n' + numbers and err == b'err\n'
        assert api.inspect(name).id == made and api.inspect(made).name == name
    finally:
        containers.remove(made)
    with pytest.raises(api.NotFound):
        api.inspect(made)
    containers.remove(made)  # already gone: no error


@pytest.mark.docker
def test_the_engines_refusals_carry_its_message():
    with pytest.raises(api.NotFound, match='404 .*no-such-container'):
        api.inspect('no-such-container-' + uuid.uuid4().hex)
    assert api.image('socket-lab-no-such-image/' + uuid.uuid4().hex) is None
    with pytest.raises(api.ApiError, match='^400 |^404 '):
        api.create({'Image': 'socket-lab-no-such-image/' + uuid.uuid4().hex}, 'bad name with spaces')


@pytest.mark.parametrize('host, said', [
    ('unix:///nonexistent/docker.sock', 'Docker Engine is not reachable at unix:///nonexistent/docker.sock: start it'),
    ('ssh://someone@somewhere', 'DOCKER_HOST ssh://someone@somewhere: the lab speaks to an Engine at unix:// or tcp:// only'),
])
def test_an_engine_it_cannot_reach_is_one_line(monkeypatch, host, said):
    monkeypatch.setenv('DOCKER_HOST', host)
    with pytest.raises(engine.EngineMissing, match='^' + said):
        api.containers({engine.PROJECT_LABEL: 'x'})

