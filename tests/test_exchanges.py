"""Every exchange of tests/exchanges.yaml, played on a fresh bridge network with the lab's images;
and `make exchange`, which replays one for a person. The exchanges make check plays exactly as the
catalogue has them, for the lessons' own files (tests/test_check.py's AS_CATALOGUED), are proven there,
each once a run: the same exchange, the same files, every transcript compared."""
import subprocess

import pytest

from socketlab import catalogue, engine, health
from socketlab.paths import ROOT
from makeplay import SILENCE, person_env
from test_check import AS_CATALOGUED

CATALOGUE = catalogue.load_catalogue()
PLAYED_HERE = [name for name in CATALOGUE if name not in AS_CATALOGUED]


@pytest.mark.docker
@pytest.mark.parametrize('name', PLAYED_HERE)
def test_exchange(name, lab, record_property):
    exchange = CATALOGUE[name]
    catalogue.play(exchange, lab)
    # output still on its way is waited for far past need: the suite loads this machine itself
    for key, (actual, expected) in catalogue.transcripts(exchange, lab, settle=4 * health.WAIT).items():
        assert actual == expected, '{} printed other lines than the lesson'.format(key)
    for key, line in catalogue.reports(exchange, lab).items():
        assert line is not None, '{} printed no line the lesson says varies'.format(key)
        record_property('varies', '{}: {}'.format(name, line))  # shown at the end of the run (conftest)


@pytest.mark.docker
def test_make_exchange_replays_one_for_a_person():
    """What a person runs, with no setting of the suite's."""
    env = person_env()
    done = subprocess.run(['make', 'exchange', 'NAME=tcp-hello-world'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=SILENCE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == '# tcp-hello-world: ' + CATALOGUE['tcp-hello-world']['stage']
    assert lines[lines.index('--- client ---') + 1:][:2] == ["Starting client...", "Received: b'Hello, world'"]
    assert lines[-1] == 'as the lesson shows'


def test_make_exchange_without_a_name_lists_them():
    done = subprocess.run(['make', 'exchange'], cwd=ROOT, env=person_env(), capture_output=True, text=True, timeout=SILENCE)
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()[1:]] == list(CATALOGUE)




@pytest.mark.docker
def test_a_client_that_exits_at_once_still_has_its_address(lab, monkeypatch):
    """A role's address is read before its program runs: the Engine forgets the address of a container
    that has exited, and a short client (a --query) could exit before it was read, so a line naming
    {alice_ip} named ''. Here the read comes late, as on a loaded machine: after the program has had
    time to exit (a program that is held does not). The program prints the address its host has."""
    import requests
    address = engine.address

    def late(container, network=None):
        try:
            container.wait(timeout=3)
            container.reload()
        except requests.exceptions.RequestException:
            pass  # still running (held): read now
        return address(container, network)
    monkeypatch.setattr(engine, 'address', late)
    role = lab.start('quick', {'kind': 'client', 'entrypoint': ['hostname', '-i']})
    assert role.wait_exit() == 0, (role.stdout(), role.stderr())
    assert catalogue.output_lines(role.stdout()) == [role.ip]
