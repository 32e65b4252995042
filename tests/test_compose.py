"""Which compose runs the lab, host-side: docker-compose 1.29's version is asked once per binary (its
start costs about 0.3 s of CPU), and again only when the binary changed; compose's model of the lab is
asked once per compose version."""
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


def test_compose_models_are_kept_one_per_compose_version(tmp_path, monkeypatch):
    """A lab run with both composes (make speed, a learner trying COMPOSE=v1) asks each compose for its
    model once: kept one per version, one never evicts the other (each switch asked docker-compose 1.29
    again, 0.45 s of a make tcp)."""
    from socketlab import topology
    from socketlab.settings import Settings
    from socketlab.target import Target
    asked = tmp_path / 'asked'
    fakes = {}
    for version in (1, 2):
        fake = tmp_path / 'compose-v{}'.format(version)
        fake.write_text("#!/bin/sh\necho v{} >> {}\necho '{{\"services\": {{\"server\": {{\"image\": \"v{}\"}}}}}}'\n".format(
            version, asked, version))
        fake.chmod(0o755)
        fakes[version] = compose.Compose((str(fake),), version, 'fake v{}'.format(version))
    monkeypatch.setattr(topology, 'state_dir', lambda project: tmp_path / 'state' / project)
    settings = Settings.from_environment({})
    for _ in range(3):
        for version in (1, 2):
            topology.normalised_services.cache_clear()  # each make is a process of its own
            assert topology.normalised_services(Target(settings, fakes[version]))['server']['image'] == 'v{}'.format(version)
    assert asked.read_text() == 'v1\nv2\n'
