"""The README's transcript replayed: each `$ make ...` of its first exchange run on a lab of the suite's
own, and what it prints compared with what the README shows, line by line (the lab's own names and the
addresses and ports of this run put in for the README's; a `...` line ends what is compared). So the
door a new user opens cannot drift from what make prints."""
import re

import pytest

from socketlab.paths import ROOT
from makeplay import project_name, run

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('docs')]
PROJECT = project_name('-docs')
ADDRESS = re.compile(r'\b\d{1,3}(?:\.\d{1,3}){3}\b')
PORT = re.compile(r"(\('<address>', )\d{1,5}\)")


def transcript(text, heading):
    """The commands of the first code block under HEADING: [(make's arguments, the lines shown after it)]."""
    section = text.split('## ' + heading + '\n', 1)[1]
    block = section.split('```\n', 2)[1]
    steps = []
    for line in block.splitlines():
        if line.startswith('$ make'):
            steps.append((line[len('$ make'):].split(), []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def same(lines):
    """Lines with this run's own values made the README's: the lab's names, addresses, a client's port."""
    shown = [ADDRESS.sub('<address>', line.replace(PROJECT + '-', 'socket-lab-')) for line in lines]
    return [PORT.sub(r'\1<port>)', line) for line in shown]


@pytest.fixture(scope='module')
def lab():
    yield
    run(PROJECT, 'down')


def test_the_readmes_first_exchange_prints_what_the_readme_shows(lab):
    steps = transcript((ROOT / 'README.md').read_text(), 'The first exchange')
    assert [args for args, _ in steps] == [['lab'], ['tcp'], ['logs']]
    for args, shown in steps:
        output, status = run(PROJECT, *args)
        assert status == 0, output
        if '...' in shown:
            shown = shown[:shown.index('...')]
            output = output[:len(shown)]
        assert same(output) == same(shown), 'make {}'.format(' '.join(args))
