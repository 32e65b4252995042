"""Which compose runs the lab, host-side: docker-compose 1.29's version is asked once per binary (its
start costs about 0.3 s of CPU), and again only when the binary changed."""
import os

from socketlab import compose


def test_a_v1_binary_is_asked_its_version_once_and_again_when_it_changed(tmp_path, monkeypatch):
    asked = tmp_path / 'asked'
    fake = tmp_path / 'bin' / 'docker-compose'
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho x >> {}\necho 1.29.2\n'.format(asked))
    fake.chmod(0o755)
    monkeypatch.setattr(compose, 'VERSIONS', tmp_path / 'versions.json')
    monkeypatch.setenv('PATH', str(fake.parent))
    found = [compose._v1() for _ in range(3)]
    assert {(c.version, c.name) for c in found} == {(1, 'docker-compose 1.29.2 (v1)')}
    assert asked.read_text() == 'x\n'
    fake.write_text(fake.read_text().replace('1.29.2', '1.29.3'))  # upgraded: a file of another size and time
    os.utime(fake, ns=(0, 1))
    assert compose._v1().name == 'docker-compose 1.29.3 (v1)' and asked.read_text() == 'x\nx\n'
