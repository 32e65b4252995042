"""The lab's own commands: make lab (up), make status, make logs, make down, make clean."""
import os
import shutil
import sys

from .. import engine, images, learner, netcat, oneoff
from .. import settings as checked
from ..paths import state_dir
from ..wire import impair
from .memory import remember
from .ownership import _other_checkout, own_name
from .server import server


def up(target):
    """make lab: images, then server and nc up and healthy, impairments applied; one line each."""
    settings = target.settings
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
    server(target, remove_orphans=True)  # each brings its own container up, impairment applied
    remember(settings)
    netcat.fresh(target)
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
    if settings.server == 'records':  # lesson 7's protocol: its upload and query, not the echo
        print('  make upload  the client uploads client/test.log (lesson 7)')
        print("  make query   the entries a filter keeps: make query QUERY='score>=4'")
        print("  make menu    your own client's menu (lessons 6-7), typed into")
    else:
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


def status(target):
    settings, compose = target.settings, target.compose
    from .. import tls
    for line in lines(settings):
        print(line)
    print(tls.said(settings.project))
    for line in impair.show(target):
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


def down(target):
    # The lab's own one-off containers first (a client still waiting, a person's make server-nc): they
    # are this project's, and while one is attached to the network compose cannot remove it.
    settings, compose = target.settings, target.compose
    for container in engine.containers(settings.project, all=True, oneoff=True):
        if container.labels.get(engine.ONEOFF_LABEL) == 'True':
            oneoff.remove(container)
    compose.run(settings, '--profile', 'client', '--profile', 'tools', 'down', '--remove-orphans', '--timeout', '5')
    shutil.rmtree(state_dir(settings.project), ignore_errors=True)
    print('The lab is down: its containers and network are removed (images stay: make clean removes them).')


def clean(target):
    """make down, then the lab's images; all kept while any container still uses one of them (another
    clone's lab of the same LAB_IMAGES): never forced."""
    settings = target.settings
    down(target)
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
