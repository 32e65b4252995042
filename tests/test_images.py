"""socketlab.images against the real Engine: a program image's build stopped half-way leaves nothing."""
import dataclasses
import os
import signal
import threading
import uuid

import pytest

from conftest import RUN
from socketlab import engine, health, images, sweep

pytestmark = pytest.mark.docker


def test_a_build_stopped_at_a_step_leaves_neither_its_step_container_nor_its_step_images(settings, tmp_path, monkeypatch):
    """A group SIGTERM to make test while it built socket-lab/server-c left the build's step container
    and its last step's image. Here a build whose second step runs for ten minutes is stopped by a real
    SIGINT while that step runs: the KeyboardInterrupt goes on once the build has ended, and neither the
    step's container nor an image the build committed is left."""
    mine = dataclasses.replace(settings, images=sweep.image_prefix(RUN) + 'images-' + uuid.uuid4().hex[:8])
    engine.client().images.get(settings.image('base')).tag(mine.image('base'))  # the sweep removes the run's tags
    (tmp_path / 'base').symlink_to(images.ROOT / 'base')  # the base's recipe, read where the programs are
    (tmp_path / 'slow').mkdir()
    (tmp_path / 'slow' / 'Dockerfile').write_text('ARG BASE\nFROM ${BASE}\nENV STEP=1\nRUN sleep 600\n')
    monkeypatch.setattr(images, 'ROOT', tmp_path)
    builds, sleeping = [], threading.Event()

    class Watched(images.Build):
        def __init__(self):
            super().__init__()
            builds.append(self)

        def read(self, chunk):
            super().read(chunk)
            if self.running is not None and 'RUN sleep' in ''.join(self.log):
                sleeping.set()
    monkeypatch.setattr(images, 'Build', Watched)

    def ctrl_c(number, frame):
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, ctrl_c)
    try:
        threading.Thread(target=lambda: sleeping.wait(timeout=health.WAIT) and os.kill(os.getpid(), signal.SIGINT),
                         daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            images.ensure(mine, 'slow')
    finally:
        signal.signal(signal.SIGINT, previous)
    (build,) = builds
    assert sleeping.is_set() and build.made, build.log  # the ENV step's image, then the RUN step's container
    step = build.running
    with pytest.raises(engine.errors().NotFound):
        engine.client().api.inspect_container(step)
    for image in build.made:
        with pytest.raises(engine.errors().NotFound):
            engine.client().images.get(image)
    assert engine.image(mine.image('slow')) is None
