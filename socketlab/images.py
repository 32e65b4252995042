"""The lab's images, built here with no registry: the base image (base/build.sh, from a Python image or
from Debian packages) and one small image per program. The programs themselves are mounted into their
containers (compose.yaml), so an edit needs no build: a program image is built when it is missing or
its Dockerfile, a lab file it runs from its copy (server-c/run.sh) or the base changed (a label on the
image says which it was built from)."""
import functools
import hashlib
import os
import re
import subprocess
import threading

from . import api, engine
from .paths import ROOT

PROGRAMS = ('server', 'client', 'netcat')  # and server-c, lesson 9's, built when a lab runs it
BUILT_FROM = 'socket-lab.built-from'
# What every lab container may rely on: each command prints its version and exits 0.
TOOLS = [
    'python3 -c "import sys; assert sys.version_info >= (3, 11), sys.version"',
    'nc.openbsd -h 2>&1 | grep -q OpenBSD',
    'nc.traditional -h 2>&1 | grep -q "GNU netcat\\|\\[v1"',
    'ncat --version',
    'ss -V',
    'iptables --version',
    'tcpdump --version',
    'socat -V',
    'strace -V',  # names the socket calls behind each packet of a capture
    '[ "$(id -un):$(id -u)" = lab:10001 ]',
]
# The recipe (base_recipe()) whose base/Dockerfile path `make base-proof` last built and checked: the
# suite builds that path again only when base/ has changed since (a build of a minute, an image of 300 MB).
PROVEN = ROOT / 'base' / 'proven'


def base_recipe():
    """What the base image is built from (base/: its package list, Dockerfile and build script)."""
    return hashlib.sha256(b''.join((ROOT / 'base' / f).read_bytes() for f in ('packages.txt', 'Dockerfile', 'build.sh'))).hexdigest()[:16]


def _built(tag):
    """The image TAG's id and the recipe it was built from (its label); (None, None) when there is none."""
    found = api.image(tag)
    return (found['Id'], (found['Config'].get('Labels') or {}).get(BUILT_FROM)) if found else (None, None)


def base(settings, force=False):
    """socket-lab/base (or LAB_IMAGES/base), built by base/build.sh when missing or built from another
    recipe; its id (the program images' recipes hold it)."""
    name = settings.image('base')
    recipe = base_recipe()
    built, built_from = _built(name)
    if not force and built_from == recipe:
        return built
    if not _build_sh(name, settings.base_from, settings.python_image, recipe):
        engine.fail('building {} failed: base/build.sh said why, above'.format(name))
    return _built(name)[0]


def _build_sh(image, base_from, python_image, recipe):
    """base/build.sh builds IMAGE (BASE_FROM, PYTHON_IMAGE as it takes them) labelled with RECIPE; whether it did."""
    env = {**os.environ, 'BASE_FROM': base_from, 'PYTHON_IMAGE': python_image, 'BASE_IMAGE': image,
           'BASE_RECIPE': recipe, 'DOCKER_BUILDKIT': '0'}
    # Stopped, the script is told (SIGTERM) and waited for, not killed: it stops its builder and removes its files.
    with subprocess.Popen(['bash', str(ROOT / 'base' / 'build.sh')], env=env) as script:
        try:
            return script.wait() == 0
        except KeyboardInterrupt:
            script.terminate()
            try:
                script.wait(timeout=BUILD_STOP_BOUND)
            except subprocess.TimeoutExpired:
                script.kill()
            raise


def has_the_tools(image, labels=None):
    """Whether IMAGE holds every tool of TOOLS (a container of it runs them, then is removed)."""
    import uuid
    from . import containers
    container = containers.create({'image': image}, 'socket-lab-tools-' + uuid.uuid4().hex[:8],
                                  ['sh', '-ec', '\n'.join(TOOLS) + '\necho ok'], labels=labels)
    try:
        containers.start(container).wait()
        output = containers.logs(container)
    finally:
        containers.remove(container)
    return output.splitlines()[-1:] == ['ok']


def proven():
    """Whether base/Dockerfile's path was proven at the recipe base/ holds now (make base-proof)."""
    try:
        return PROVEN.read_text().split()[:1] == [base_recipe()]
    except OSError:
        return False


def prove_dockerfile(settings):
    """make base-proof: base/Dockerfile built FROM the lab's base (the same recipe's other path), checked
    for every tool, removed again; base/proven then names the recipe proven. Lines to print."""
    from . import sweep
    from .paths import write_atomic
    run, recipe = sweep.child_run('base-proof'), base_recipe()  # inside another run, a run of its own: its sweep is its own only
    image = sweep.image_prefix(run) + 'base/dockerfile'
    base(settings)
    try:
        if not _build_sh(image, 'python', settings.image('base'), recipe):
            engine.fail('make base-proof: base/Dockerfile did not build (above: why)')
        if not has_the_tools(image, {engine.RUN_LABEL: run}):
            engine.fail('make base-proof: the image built from base/Dockerfile lacks a tool of the lab')
    finally:
        sweep.sweep(run)
    write_atomic(PROVEN, recipe + '\n')
    return ['base/Dockerfile proven at recipe {} (base/proven): the suite builds it again when base/ changes.'.format(recipe)]


# What a program image copies of the lab's own and runs from the copy (not mounted over it as the
# learner's programs are): a change to it is a new recipe, so the image is built again.
RUNS_FROM_IMAGE = {'server-c': ('run.sh',)}


def _recipe(base_id, program):
    """What a program image is built from: its Dockerfile, the lab's files it runs from its copy, and the
    base image's id (BASE_ID)."""
    parts = [(ROOT / program / name).read_bytes() for name in ('Dockerfile', *RUNS_FROM_IMAGE.get(program, ()))]
    return hashlib.sha256(b''.join(parts) + base_id.encode()).hexdigest()[:16]


class Build:
    """One program image's build by the Engine's (legacy) builder, read step by step, so that a stop can
    end it and remove what it made. Each step that runs a container names it (' ---> Running in ID'),
    then the image it committed (' ---> ID'). A build cut off by a closed connection left its step's
    container and its last step's image (seen: a group SIGTERM to make test while it built
    socket-lab/server-c); stopped here, the step's container is removed (the build fails at that step,
    the Engine removes its own), and the untagged step images it made are removed after it ended."""

    STEP_CONTAINER = re.compile(r' ---> Running in ([0-9a-f]{12,64})$')
    STEP_IMAGE = re.compile(r' ---> ([0-9a-f]{12,64})$')

    def __init__(self):
        self.stopping = threading.Event()
        self.running = None  # the step's container
        self.made = []  # the images its steps committed, in order
        self.log = []

    def read(self, chunk):
        """One chunk of the Engine's build stream."""
        text = chunk.get('stream', '') or chunk.get('error', '')
        self.log.append(text)
        for line in text.splitlines():
            if step := self.STEP_CONTAINER.match(line):
                self.running = step.group(1)
                if self.stopping.is_set():
                    self._remove_step()
            elif (step := self.STEP_IMAGE.match(line)) and self.running is not None:
                self.made.append(step.group(1))
                self.running = None

    def stop(self):
        """Ends the build at its current step (or its next, if none runs now)."""
        self.stopping.set()
        self._remove_step()

    def _remove_step(self):
        running = self.running
        if running is not None:
            try:
                engine.client().api.remove_container(running, force=True)
            except engine.errors().APIError:
                pass  # the step ended meanwhile: the next one is removed as it starts

    def remove_leftovers(self):
        """The step images it made that no tag holds (a finished build's are its image's own layers)."""
        for image in reversed(self.made):
            try:
                if not engine.client().images.get(image).tags:
                    engine.client().images.remove(image)
            except engine.errors().APIError:
                pass  # gone with a later one, or another image is built on it


def program(settings, name, base_id, build):
    """LAB_IMAGES/NAME on the base image BASE_ID, built when missing or stale (read by BUILD, a Build);
    the image it replaces is removed when unused."""
    tag = settings.image(name)
    recipe = _recipe(base_id, name)
    old, built_from = _built(tag)
    if built_from == recipe:
        return
    try:
        for chunk in engine.client().api.build(path=str(ROOT / name), tag=tag, rm=True, forcerm=True, decode=True,
                                               buildargs={'BASE': settings.image('base')}, labels={BUILT_FROM: recipe}):
            build.read(chunk)
            if 'error' in chunk:
                engine.fail('building {} failed:\n{}'.format(tag, ''.join(build.log).rstrip()))
    except engine.errors().APIError as error:
        engine.fail('building {} failed: {}'.format(tag, error.explanation or error))
    if old is not None:
        try:
            engine.client().images.remove(old)
        except engine.errors().APIError:
            pass  # a container still uses it: make down removes it (docker image prune)


# How long a stopped target waits for the builds it ended to end (each ends at its step: seconds).
BUILD_STOP_BOUND = 60


def ensure(settings, *names):
    """The base and the named program images, each built only if needed: the programs side by side, as
    a build here waits mostly on the Engine's storage (three at once took as long as one: 11 s). A stop
    ends each build at its step and removes what it left (Build)."""
    base_id = base(settings)
    names = [name for name in names or PROGRAMS if _built(settings.image(name))[1] != _recipe(base_id, name)]
    if not names:
        return  # a warm make: each asked once, nothing built (and no thread)
    import concurrent.futures
    builds = [Build() for _ in names]
    building = [concurrent.futures.Future() for _ in names]  # made first, so that a stop while one starts finds it
    try:
        for name, build, built in zip(names, builds, building):
            engine.aside(functools.partial(program, settings, name, base_id, build), 'build-' + name, built)
        for built in building:
            built.result()
    except KeyboardInterrupt:
        for build, built in zip(builds, building):
            built.cancel()  # never begun: never asked
            build.stop()
        concurrent.futures.wait(building, timeout=BUILD_STOP_BOUND)
        for build in builds:
            build.remove_leftovers()
        raise
