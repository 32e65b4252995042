"""The one wait (socketlab.health.eventually), host-side: it retries what is not yet, and stops at once at
what can never be (health.Never), as a terminal that closed before showing what a step waits for."""
import pytest

from socketlab import catalogue, health


def test_a_check_not_yet_true_is_asked_again_until_it_is():
    answers = iter([False, AssertionError('not yet'), 'done'])

    def check():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer
    assert health.eventually(check, timeout=120) == 'done'


def test_what_can_never_come_is_said_at_once_not_after_the_bound():
    asked = []

    def check():
        asked.append(1)
        raise health.Never('it went away')
    with pytest.raises(health.Never, match='^it went away$'):
        health.eventually(check, timeout=3600)
    assert asked == [1]


class ClosedTerminal(catalogue.Screen):
    """A terminal that showed one line and closed (its program exited)."""

    def __init__(self):
        super().__init__()
        self.chunks = ['Starting client...\r\n', None]
        self.reads = 0

    def _chunk(self, timeout):
        self.reads += 1
        return self.chunks.pop(0) if self.chunks else None


def test_a_terminal_that_closed_before_showing_a_text_fails_its_wait_at_once():
    terminal = ClosedTerminal()
    with pytest.raises(health.NotYet, match=r"^the terminal closed before showing 'Hello, world'; it shows 'Starting client...\\n'$"):
        terminal.wait_for('Hello, world')
    assert terminal.reads == 2  # the line, then the end: never read again
