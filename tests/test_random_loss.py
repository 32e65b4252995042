"""Under 30% random loss, make tcp delivers every time, and the lab is never wedged: on a lab of its own
(its own pytest-xdist group, handed out first: twenty exchanges under loss take a minute or more, most
of it waiting for the kernel's retransmissions; each client waits up to 300 s, far past need)."""
import pytest

from makeplay import LESSON, lab_up, project_name, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('random-loss'), pytest.mark.timeout(1800)]  # 20 clients, one unlucky wait at most
PROJECT = project_name('-random-loss')


@pytest.fixture(scope='module')
def running_lab():
    """This module's lab, brought up by make lab and taken down after it: its project's name."""
    yield from lab_up(PROJECT)


def test_under_random_loss_every_tcp_exchange_delivers_and_the_server_is_never_wedged(running_lab):
    """A host outlives its socket: each client's container stays until its FIN is acknowledged, so
    the one-client-at-a-time server is never left waiting for a client that is gone (before, 2 runs
    in 5 failed here at 30% loss); outgoing packets are lost in the user-space queue, as on a wire (a
    SYN,ACK dropped by iptables in OUTPUT made the kernel forget the half-open connection: 1 run in
    about 60 met a reset). Then, healed, the lab serves the lesson at once. The client waits far past
    what the kernel needs: a client whose SYN was sent again resends a lost segment after 3, 9, 21, 45,
    93, 189 s, and the server serves the next one only after the last one's FIN, so a 60 s wait (one
    unlucky run in a few dozen at 30% both ways; seen on a clean clone) was a verdict on chance; a wedged
    server still fails it, as it never answers."""
    assert run(PROJECT, 'impair', 'LOSS=30')[1] == 0
    for _ in range(20):
        assert run(PROJECT, 'tcp', 'ARGS=--timeout 300', timeout=420) == (LESSON['client'], 0)
    assert run(PROJECT, 'heal') == (['Impairment now: none'], 0)
    assert run(PROJECT, 'tcp', 'ARGS=--timeout 3') == (LESSON['client'], 0)
