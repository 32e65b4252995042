"""The server's lifecycle: running the learner's current file with the current settings, started or
restarted only when something it depends on changed, and seen listening (or why not, in one line)."""
import hashlib
import json

from .. import api, engine, health, images, learner
from .. import settings as checked
from ..paths import ROOT, state_dir, write_atomic

# A server that listens only here is unreachable from the other containers (the learner's likeliest mistake).
LOOPBACK = ('127.', 'localhost', '::1')


def server_file(settings):
    """The server program the lab runs: the learner's server/ServerPython.py or lesson 9's server/ServerC.c,
    or the lab's server/RecordServer.py (settings.SERVER_PROGRAMS)."""
    return learner.SERVER_FILE.with_name(checked.SERVER_PROGRAMS[settings.server][2])


def _server_record(settings):
    return state_dir(settings.project) / 'server.json'


def _wanted(settings):
    """What the running server must match: its settings and the file it started from."""
    return {'settings': settings.compose_environment(), 'publish': settings.publish,
            'compose': hashlib.sha256((ROOT / 'compose.yaml').read_bytes()).hexdigest(),
            'source': hashlib.sha256(server_file(settings).read_bytes()).hexdigest()}


def _record_server(settings, container, loopback):
    """Notes which container runs what, that this start of it was seen listening, and where (LOOPBACK:
    the address, when it listens on its own loopback only)."""
    write_atomic(_server_record(settings), json.dumps({'container': container.id, 'started': container.attrs['State']['StartedAt'],
                                                       'loopback': loopback, **_wanted(settings)}))


def _recorded(settings):
    try:
        return json.loads(_server_record(settings).read_text())
    except (OSError, ValueError):
        return {}


def served_on_loopback(settings):
    """The address the server listens on when that is its own loopback only (as the lesson's server,
    which binds 'localhost'), else None: then its clients run on its host (socketlab.client)."""
    return _recorded(settings).get('loopback')


def _loopback_only(container, port):
    """The address the server listens on, if it listens on its own loopback (and so only there: the
    healthcheck, which wants an address the others reach, has just failed); else None."""
    try:
        listening = container.exec_run(['ss', '-Hltn', 'sport = :{}'.format(port)]).output.decode(errors='replace').split()
    except engine.errors().APIError:
        return None  # it stopped meanwhile: the next look says so
    return next((word for word in listening if word.startswith(LOOPBACK)), None)


def _udp_only(container, port):
    """'udp ADDRESS' when the server has a UDP socket on the port and no TCP listener (lesson 9's UDP
    step: its SOCK_DGRAM server has nothing the TCP healthcheck can find); else None."""
    try:
        bound = container.exec_run(['ss', '-Hlun', 'sport = :{}'.format(port)]).output.decode(errors='replace').split()
    except engine.errors().APIError:
        return None
    return next(('udp ' + word for word in bound if word.endswith(':{}'.format(port))), None)


def _listening_or_explain(container, port, logged=None):
    """Waits until the server listens; returns None when it listens where the others reach it, or the
    address when it listens on its own loopback only (the lesson's server binds 'localhost': it is
    served on its own host, and the lab says so). Says why at once if it stopped, with what it printed
    after the first LOGGED bytes of its log (the earlier starts')."""
    try:
        health.wait_healthy(container, unhealthy=lambda: _loopback_only(container, port) or _udp_only(container, port))
        return None
    except health.StoppedError:
        logs = last_start_logs(container, logged).rstrip()
        engine.fail('the server stopped; what it printed:\n{}'.format(logs or '(nothing)'))
    except health.Unreachable as error:
        if str(error).startswith('udp '):
            print("Lab: your server listens on UDP {} (SOCK_DGRAM, lesson 9's UDP step), not TCP: make tcp ARGS=--udp "
                  "sends it the client lesson's datagram.".format(str(error)[4:]))
            return None
        print("Lab: your server listens on {} only (it binds 'localhost', as the lesson's does): its clients run "
              "on its host, as the lesson's terminals on one machine. To reach it from the lab's other hosts, "
              "bind '0.0.0.0'.".format(error))
        return str(error)
    except health.NotYet:
        engine.fail('the server is not listening on its port after {:g} s: make logs shows what it printed'.format(health.WAIT))


def _logged(container):
    """How many bytes the container has logged so far (none: 0); a start after this prints after them."""
    return len(container.logs()) if container is not None else 0


def last_start_logs(container, logged=None):
    """What the container printed since it last started: after the first LOGGED bytes of its log (its
    length before that start), or, running, after its previous run finished. (Not since the start the
    Engine records: a program that prints at once may be logged before that, as seen under load.)"""
    if logged is not None:
        return container.logs()[logged:].decode(errors='replace')
    state = container.attrs['State']
    if container.status != 'running':  # since the start the Engine records (its very first lines may precede it)
        return container.logs(since=_timestamp(state['StartedAt'])).decode(errors='replace')
    if state['FinishedAt'].startswith('0001-'):  # never stopped: all of it is this start's
        return container.logs().decode(errors='replace')
    return container.logs(since=_timestamp(state['FinishedAt'])).decode(errors='replace')


def _timestamp(engine_time):
    """An Engine time (2026-11-26T00:14:03.123456789Z) as seconds, a float: a datetime is sent in whole
    seconds, which would keep the end of the previous run's lines."""
    import datetime  # here: a warm make tcp reads no log
    return datetime.datetime.fromisoformat(engine_time[:26].rstrip('Z') + '+00:00').timestamp()


def _unchanged(settings):
    """The server's container, when it is the start of it that was seen healthy, still running, on the
    current file with the current settings (found by socketlab.api: the learner's loop imports no docker
    SDK); else None."""
    recorded = _recorded(settings)
    if 'container' not in recorded or any(recorded.get(key) != value for key, value in _wanted(settings).items()):
        return None
    try:
        container = api.inspect(recorded['container'])
    except api.NotFound:
        return None
    labels = container.labels
    if (labels.get(engine.PROJECT_LABEL), labels.get(engine.SERVICE_LABEL), labels.get(engine.ONEOFF_LABEL, 'False')) != (
            settings.project, 'server', 'False'):
        return None  # not the lab's server
    return container if _seen_healthy(container, recorded) else None


def _seen_healthy(container, recorded):
    """Whether CONTAINER (the docker SDK's model, or socketlab.api's) is running the start of it that was
    seen healthy (RECORDED: what _record_server wrote then)."""
    return container.status == 'running' and container.attrs['State']['StartedAt'] == recorded.get('started')


def server(target, remove_orphans=False):
    """The server, running the learner's current file with the current settings and healthy, as
    socketlab.api reads a container (engine.model(): the docker SDK's model of it). Quick when it
    already is (no compose call, no docker SDK): only an edit or a changed setting restarts it, and
    only a changed compose.yaml can leave orphans for make lab to remove (remove_orphans)."""
    settings, compose = target.settings, target.compose
    unchanged = _unchanged(settings)
    if unchanged is not None:
        return unchanged
    container = engine.service_container(settings.project, 'server')
    recorded = _recorded(settings)
    wanted = _wanted(settings)
    same = container is not None and recorded.get('container') == container.id
    # Lesson 9's C server compiles into a tmpfs (/build); a container the Engine restarts gets its tmpfs
    # back without the mode compose gave it (root's 755, seen with Docker 20.10), so it is made anew instead.
    anew = settings.server == 'c'
    if same and anew and recorded.get('source') != wanted['source']:
        same = False
    if same and all(recorded.get(k) == v for k, v in wanted.items() if k != 'source'):
        logged = None  # it stopped or started again by itself: its own record of its last start
        if recorded['source'] != wanted['source']:
            logged = _logged(container)
            _certificates(target)
            container.restart(timeout=5)  # only the file changed: start the program again on it
            container.reload()
        if _seen_healthy(container, recorded):
            return api.Container(container.attrs)  # the same start of it that was seen healthy, still running
        _record_server(settings, container, _listening_or_explain(container, settings.server_port, logged))
        return api.Container(container.attrs)
    before, logged = (container.id, _logged(container)) if container is not None else (None, 0)
    images.ensure(settings, settings.server_program)
    _certificates(target)
    compose.run(settings, 'up', '-d', '--no-deps', *(['--remove-orphans'] if remove_orphans else []),
                *(['--force-recreate'] if anew else []), 'server')
    container = engine.service_container(settings.project, 'server')
    if container is None:
        engine.fail('the server did not start: make logs shows why')
    logged = logged if container.id == before else 0  # compose made a new one: all of its log is this start's
    _record_server(settings, container, _listening_or_explain(container, settings.server_port, logged))
    from ..wire import impair  # only where compose made the server: its new container gets the lab's impairment
    impair.sync(target)
    return api.Container(container.attrs)


def _certificates(target):
    """Lesson 7's certificates, made before the server starts where it opens them: at a TLS stage of the
    lab's server, or with a learner's server file that imports ssl."""
    settings = target.settings
    from .. import tls
    if settings.server == 'python' and tls.needed(settings.stage, None if learner.server_has_stages() else server_file(settings)):
        tls.ensure(target)
