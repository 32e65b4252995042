"""The base image, built both ways base/build.sh knows: from Debian packages (socket-lab/base, as
`make` built it on this machine with no registry) and from base/Dockerfile, pointed at a local image
(under this run's own name, removed when the module is done: a passing run leaves no image of its own).
The Dockerfile's path is built only when base/ has changed since `make base-proof` proved it (base/proven)."""
import os
import subprocess

import pytest

from socketlab import engine, images, sweep
from socketlab.paths import ROOT

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('base-image')]
BUILD = ROOT / 'base' / 'build.sh'
DOCKERFILE_IMAGE = sweep.image_prefix(sweep.new_run()) + 'base/dockerfile'
def build(**env):
    return subprocess.run(['bash', str(BUILD)], capture_output=True, text=True, timeout=280,
                          env={**os.environ, 'DOCKER_BUILDKIT': '0', **env})


@pytest.fixture(scope='module')
def dockerfile_image():
    if images.proven():
        pytest.skip('base/ is unchanged since make base-proof built and checked its Dockerfile path (base/proven: {})'.format(
            images.base_recipe()))
    result = build(BASE_FROM='python', PYTHON_IMAGE='socket-lab/base', BASE_IMAGE=DOCKERFILE_IMAGE)
    assert (result.returncode, result.stderr) == (0, ''), result.stdout
    try:
        assert result.stdout.splitlines() == ['Building {} from socket-lab/base (base/Dockerfile)'.format(DOCKERFILE_IMAGE),
                                              'Built {}'.format(DOCKERFILE_IMAGE)]
        yield DOCKERFILE_IMAGE
    finally:
        try:
            engine.client().images.remove(DOCKERFILE_IMAGE)
        except engine.errors().ImageNotFound:
            pass


@pytest.mark.timeout(900)  # a first build runs apt-get in the builder
@pytest.mark.parametrize('image, how', [('socket-lab/base', None), (DOCKERFILE_IMAGE, 'dockerfile')])
def test_base_image_has_the_labs_tools(request, image, how):
    if how:
        request.getfixturevalue('dockerfile_image')
    assert images.has_the_tools(image, {engine.RUN_LABEL: sweep.new_run()})
    if how:
        assert engine.client().images.get(image).labels['socket-lab.base'] == how


def test_build_rejects_an_unknown_way():
    result = build(BASE_FROM='conda')
    assert (result.returncode, result.stdout, result.stderr) == (
        1, '', "base/build.sh: BASE_FROM must be auto, python or debian, not 'conda'\n")


def test_the_base_image_says_which_recipe_it_was_built_from():
    """make rebuilds the base image when base/ changes (a package added, as strace was): the image
    carries the hash of base/'s files it was built from, and make compares it."""
    assert engine.client().images.get('socket-lab/base').labels.get(images.BUILT_FROM) == images.base_recipe()


@pytest.mark.parametrize('moment', ['keyring', 'rootfs'])
def test_a_debian_build_stopped_removes_its_rootfs_and_its_tar_and_makes_no_image(tmp_path, moment):
    """Stopped while mmdebstrap runs (SIGTERM, as make's clean-up sends it), base/build.sh tells
    mmdebstrap, waits for it and removes its folder: nothing is left in its TMPDIR and no image is made.
    In the foreground, a stop killed bash before its EXIT trap and the tar stayed; stopped at its start
    (its keyring folder made), mmdebstrap itself leaves that folder; here, stopped then or once packages
    are unpacked in its rootfs."""
    import shutil
    from socketlab import health
    if shutil.which('mmdebstrap') is None:
        pytest.skip('no mmdebstrap here: the base image was built from a Python image')
    image = sweep.image_prefix(sweep.new_run()) + 'base/stopped'
    script = subprocess.Popen(['bash', str(BUILD)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, 'BASE_FROM': 'debian', 'BASE_IMAGE': image, 'TMPDIR': str(tmp_path)})

    def made():  # at its start, its keyring folder (in the script's own); later, its rootfs with packages unpacked
        if moment == 'keyring':
            return list(tmp_path.glob('*/mmdebstrap.gpghome.*'))
        return [path for path in tmp_path.glob('*/mmdebstrap.*') if (path / 'usr' / 'bin').is_dir()]
    try:
        health.eventually(made, what='mmdebstrap never made its {} folder in {}'.format(moment, tmp_path))
        script.terminate()
        output, _ = script.communicate(timeout=4 * health.WAIT)  # its rootfs removed from the disk, under load
    finally:
        script.kill()
    assert script.returncode == 128 + 15 and list(tmp_path.iterdir()) == [], output
    assert engine.image(image) is None
