"""The lab's images, built here with no registry: the base image (base/build.sh, from a Python image or
from Debian packages) and one small image per program. The programs themselves are mounted into their
containers (compose.yaml), so an edit needs no build: a program image is built when it is missing or
its Dockerfile or the base changed (a label on the image says which it was built from)."""
import hashlib
import os
import subprocess
import sys

from . import engine
from .paths import ROOT

PROGRAMS = ('server', 'client', 'netcat')
BUILT_FROM = 'socket-lab.built-from'


def base_recipe():
    """What the base image is built from (base/: its package list, Dockerfile and build script)."""
    return hashlib.sha256(b''.join((ROOT / 'base' / f).read_bytes() for f in ('packages.txt', 'Dockerfile', 'build.sh'))).hexdigest()[:16]


def base(settings, force=False):
    """socket-lab/base (or LAB_IMAGES/base), built by base/build.sh when missing or built from another recipe."""
    name = settings.image('base')
    recipe = base_recipe()
    built = engine.image(name)
    if not force and built is not None and built.labels.get(BUILT_FROM) == recipe:
        return
    env = {**os.environ, 'BASE_FROM': settings.base_from, 'PYTHON_IMAGE': settings.python_image, 'BASE_IMAGE': name,
           'BASE_RECIPE': recipe, 'DOCKER_BUILDKIT': '0'}
    if subprocess.run(['bash', str(ROOT / 'base' / 'build.sh')], env=env).returncode:
        raise SystemExit(1)


def _recipe(settings, program):
    """What a program image is built from: its Dockerfile and the base image's id."""
    base_id = engine.client().images.get(settings.image('base')).id
    dockerfile = (ROOT / program / 'Dockerfile').read_bytes()
    return hashlib.sha256(dockerfile + base_id.encode()).hexdigest()[:16]


def program(settings, name):
    """LAB_IMAGES/NAME, built when missing or stale; the image it replaces is removed when unused."""
    tag = settings.image(name)
    recipe = _recipe(settings, name)
    old = engine.image(tag)
    if old is not None and old.labels.get(BUILT_FROM) == recipe:
        return
    try:
        engine.client().images.build(path=str(ROOT / name), tag=tag, rm=True, forcerm=True,
                                     buildargs={'BASE': settings.image('base')}, labels={BUILT_FROM: recipe})
    except engine.errors().BuildError as error:
        print('building {} failed:'.format(tag), file=sys.stderr)
        for line in error.build_log:
            print(line.get('stream', line.get('error', '')), end='', file=sys.stderr)
        raise SystemExit(1)
    if old is not None:
        try:
            engine.client().images.remove(old.id)
        except engine.errors().APIError:
            pass  # a container still uses it: make down removes it (docker image prune)


def ensure(settings, *names):
    """The base and the named program images, each built only if needed."""
    base(settings)
    for name in names or PROGRAMS:
        program(settings, name)
