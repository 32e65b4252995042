"""The lab itself: bring it up (server and nc, healthy), keep the server running what the learner
wrote, say what runs, show the logs, take it down."""
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import sys

from . import engine, health, images, learner, netcat, oneoff
from . import settings as checked
from .paths import ROOT, state_dir, write_atomic
from .wire import impair

# A server that listens only here is unreachable from the other containers (the learner's likeliest mistake).
LOOPBACK = ('127.', 'localhost', '::1')


def remembered(settings, env=None):
    """The settings with the stage `make lab STAGE=...` and the server `make lab SERVER=...` chose for
    this lab, unless given now: a learner picks them once, then runs make server-nc, make tcp, make
    clients against it."""
    env = os.environ if env is None else env
    chosen = {}
    for name, setting, allowed in (('stage', 'STAGE', checked.STAGES), ('server', 'SERVER', checked.SERVERS)):
        if env.get(setting):
            continue
        try:
            chosen[name] = checked.choice("the lab's {} (.lab)".format(name), (state_dir(settings.project) / name).read_text().strip(), allowed)
        except OSError:
            pass
    return dataclasses.replace(settings, **chosen)


WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'  # set by Compose v2 and 1.29 alike


def _folders(project):
    """The folders the project's containers were started from (compose labels each with its own)."""
    listed = engine.client().containers.list(all=True, sparse=True, filters={'label': engine.PROJECT_LABEL + '=' + project})
    return {(c.attrs.get('Labels') or {}).get(WORKING_DIR_LABEL) for c in listed} - {None}


def _other_checkout(project):
    """The folder of another checkout whose lab PROJECT is, if any."""
    return next((folder for folder in sorted(_folders(project)) if os.path.realpath(folder) != str(ROOT)), None)


def owned_here(settings):
    """Refuses a project another checkout's lab runs (a LAB_PROJECT given by name)."""
    folder = _other_checkout(settings.project)
    if folder is not None:
        raise checked.SettingError(
            "LAB_PROJECT {0} is the lab of another checkout ({1}): nothing changed; give this one a name of "
            "its own, e.g. LAB_PROJECT={0}-2, or run make there".format(settings.project, folder))


def own_name(default):
    """This checkout's own lab name, for when the default one is another clone's: DEFAULT-HASH."""
    return '{}-{}'.format(default, hashlib.sha256(str(ROOT).encode()).hexdigest()[:6])


def own_project(settings, named):
    """The lab this checkout's make means. NAMED (LAB_PROJECT given): that one, if it is not another
    checkout's. Else the default, socket-lab, unless another clone on this engine runs it (or this
    checkout's own name already runs): then this checkout's own name, socket-lab-HASH (make lab says so).
    Nothing is written: the engine's labels are the record."""
    if named:
        owned_here(settings)
        return settings
    own = own_name(settings.project)
    if _folders(own) or _other_checkout(settings.project) is not None:
        return dataclasses.replace(settings, project=checked.project("this checkout's lab", own))
    return settings


def _remember_stage(settings):
    write_atomic(state_dir(settings.project) / 'stage', settings.stage + '\n')
    write_atomic(state_dir(settings.project) / 'server', settings.server + '\n')


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
    return datetime.datetime.fromisoformat(engine_time[:26].rstrip('Z') + '+00:00').timestamp()


def server(settings, compose, remove_orphans=False):
    """The server, running the learner's current file with the current settings and healthy.
    Quick when it already is (no compose call): only an edit or a changed setting restarts it, and
    only a changed compose.yaml can leave orphans for make lab to remove (remove_orphans)."""
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
            _certificates(settings, compose)
            container.restart(timeout=5)  # only the file changed: start the program again on it
            container.reload()
        if container.status == 'running' and container.attrs['State']['StartedAt'] == recorded.get('started'):
            return container  # the same start of it that was seen healthy, still running
        _record_server(settings, container, _listening_or_explain(container, settings.server_port, logged))
        return container
    before, logged = (container.id, _logged(container)) if container is not None else (None, 0)
    images.ensure(settings, settings.server_program)
    _certificates(settings, compose)
    compose.run(settings, 'up', '-d', '--no-deps', *(['--remove-orphans'] if remove_orphans else []),
                *(['--force-recreate'] if anew else []), 'server')
    container = engine.service_container(settings.project, 'server')
    if container is None:
        engine.fail('the server did not start: make logs shows why')
    logged = logged if container.id == before else 0  # compose made a new one: all of its log is this start's
    _record_server(settings, container, _listening_or_explain(container, settings.server_port, logged))
    impair.sync(settings, compose)
    return container


def _certificates(settings, compose):
    """Lesson 7's certificates, made before the server starts where it opens them: at a TLS stage of the
    lab's server, or with a learner's server file that imports ssl."""
    from . import tls
    if settings.server == 'python' and tls.needed(settings.stage, None if learner.server_has_stages() else server_file(settings)):
        tls.ensure(settings, compose)


def up(settings, compose):
    """make lab: images, then server and nc up and healthy, impairments applied; one line each."""
    images.ensure(settings)
    if settings.server == 'c' and settings.stage != 'simple':
        print("Lab: STAGE= picks a stage of the Python server; SERVER=c runs server/ServerC.c, lesson 9's one server.")
    elif settings.server == 'records' and settings.stage != 'simple':
        print("Lab: STAGE= picks a stage of the Python server; SERVER=records runs the lab's server/RecordServer.py, which has none.")
    elif settings.stage != 'simple' and not learner.server_has_stages():
        print("Lab: STAGE= picks a stage of the lab's own server; server/ServerPython.py is your own file and runs "
              "what its start_server() calls.")
    if settings.strict and settings.server != 'c':
        print("Lab: STRICT=1 is for lesson 9's gcc build (SERVER=c); the {} server is not compiled.".format(settings.server))
    server(settings, compose, remove_orphans=True)  # each brings its own container up, impairment applied
    _remember_stage(settings)
    netcat.fresh(settings, compose)
    for line in lines(settings):
        print(line)
    print()
    for line in impair.wanted_lines(settings):
        print('Impairment on ' + line)
    port = settings.server_port
    if settings.publish:
        print('Published on 127.0.0.1 only: TCP {0} (server); UDP {0} (nc). Give PUBLISH=1 to every make '
              'command (or export it) to keep them.'.format(port))
    default = checked.Settings.project
    other = _other_checkout(default) if settings.project == own_name(default) else None
    if other:
        print("{} is the lab of another checkout ({}): this checkout's lab is {} (make down ends it).".format(
            default, other, settings.project))
    stage = '' if settings.stage == 'simple' else ', stage {}'.format(settings.stage)
    program = {'c': 'ServerC, lesson 9, built from server/ServerC.c',
               'records': "python3 RecordServer.py, the lab's server for lesson 7's upload and query"}.get(
                   settings.server, 'python3 ServerPython.py' + stage)
    print('The lab is up: server ({}, TCP port {}), netcat (nc flavour {}, UDP port {}).'.format(
        program, port, settings.nc_flavor, port))
    print('Next:')
    print("  make tcp     the lesson's TCP client against the server")
    print('  make udp     the UDP client against nc; then in another terminal')
    print("  make nc      see 'Hello, world', type a reply + Enter (detach: Ctrl-P Ctrl-Q)")
    print('  make down    stop it all')


def lines(settings):
    """One line per lab service: its container, its address on the lab network, what it runs."""
    out = []
    for service in ('server', 'netcat'):
        container = engine.service_container(settings.project, service)
        if container is None:
            out.append('  {:<7} not running'.format(service))
            continue
        if service == 'server' and container.attrs['Config']['Image'] == settings.image('server-c'):
            what = './ServerC  (gcc -o ServerC -lc ServerC.c, line-buffered: server-c/run.sh)'
        elif service == 'server':
            program = os.path.basename((container.attrs['Config']['Entrypoint'] or ['', 'ServerPython.py'])[-1])
            what = 'python3 {} '.format(program) + ' '.join(container.attrs['Config']['Cmd'] or [])
            stage = next((e.split('=', 1)[1] for e in container.attrs['Config']['Env'] if e.startswith('SERVER_STAGE=')), 'simple')
            what += '' if stage == 'simple' or program != 'ServerPython.py' else '  (stage {})'.format(stage)
        else:
            what = netcat.command(container)
        out.append('  {:<7} {}  {}  {}'.format(service, container.name, engine.address(container), what.strip()))
    return out


def status(settings, compose):
    from . import tls
    for line in lines(settings):
        print(line)
    print(tls.said(settings.project))
    for line in impair.show(settings, compose):
        print(line)
    print('compose: ' + compose.name)


def logs(settings):
    """The server's output so far, and what nc has received (docker logs holds back nc's partial line)."""
    for service in ('server', 'netcat'):
        container = engine.service_container(settings.project, service, all=True)
        if container is None:
            print('{}: not running'.format(service))
        elif service == 'server':
            print('--- server ({}) ---'.format(container.name))
            sys.stdout.write(container.logs().decode(errors='replace'))
        else:
            print('--- what nc received ({}) ---'.format(container.name))
            print(netcat.received(container) or '(nothing yet)')


def down(settings, compose):
    # The lab's own one-off containers first (a client still waiting, a person's make server-nc): they
    # are this project's, and while one is attached to the network compose cannot remove it.
    for container in engine.containers(settings.project, all=True, oneoff=True):
        if container.labels.get(engine.ONEOFF_LABEL) == 'True':
            oneoff.remove(container)
    compose.run(settings, '--profile', 'client', '--profile', 'tools', 'down', '--remove-orphans', '--timeout', '5')
    shutil.rmtree(state_dir(settings.project), ignore_errors=True)
    print('The lab is down: its containers and network are removed (images stay: make clean removes them).')


def clean(settings, compose):
    """make down, then the lab's images; all kept while any container still uses one of them (another
    clone's lab of the same LAB_IMAGES): never forced."""
    down(settings, compose)
    client = engine.client()
    names = [settings.image(name) for name in (*images.PROGRAMS, 'server-c', 'base', 'base-dockerfile')]  # server-c: lesson 9's
    ids = {image.id for image in map(engine.image, names) if image is not None}
    if any(c.attrs.get('ImageID') in ids for c in client.containers.list(all=True, sparse=True)):
        print('Kept the images {}/*: containers of another lab still use them (make down there first).'.format(settings.images))
        return
    for name in names:  # by name: a tag someone else gave one of these images stays
        try:
            client.images.remove(name)
        except engine.errors().ImageNotFound:
            pass
