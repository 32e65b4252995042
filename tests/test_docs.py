"""The docs' transcripts replayed: each `$ make ...` of a block below run on a lab of the suite's own,
and what it prints compared with what the block shows, line by line (this run's lab names, addresses
and ports put in for the block's; a `...` line ends what is compared; a command shown with no lines
after it is run, its output not shown). So the README a new user opens, and the guides' blocks named
here, cannot drift from what make prints."""
import re
import shlex
import shutil

import pytest

from socketlab.paths import LESSON_FILES, ROOT
from makeplay import project_name, run
from test_check import submission

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('docs')]
ADDRESS = re.compile(r'\b\d{1,3}(?:\.\d{1,3}){3}\b')
PORT = re.compile(r"(\('<address>', )\d{1,5}\)")
# (file, heading, which blocks under it, in order, on one lab)
REPLAYED = [('README.md', '## The first exchange', [0]),
            ('docs/learner.md', '### Bring the lab up', [0]),
            ('docs/learner.md', "### TCP: the lesson's client against the echo server", [0]),
            ('docs/learner.md', '### The str-instead-of-bytes mistake', [0]),
            ('docs/learner.md', '### Replay any exchange', [0]),
            ('docs/learner.md', '### Errors a learner meets', [0]),
            ('docs/learner.md', '## Lesson 7: TLS', [0, 1]),
            ('docs/learner.md', '## Lesson 7: binary records', [0]),
            ('docs/learner.md', '## Lesson 9: the server in C', [0])]


def transcript(text, heading, block):
    """The commands of the BLOCKth code block after HEADING (its line, #s and all): [(make's arguments,
    the lines shown after each)]."""
    after = text.split('\n' + heading + '\n', 1)[1]
    code = after.split('```\n')[1::2][block]
    steps = []
    for line in code.splitlines():
        if line.startswith('$ make'):
            steps.append((shlex.split(line[len('$ make'):], comments=True), []))
        elif steps:
            steps[-1][1].append(line)
    return steps


def same(lines, project):
    """Lines with this run's own values made the docs': the lab's names, addresses, a client's port."""
    shown = [ADDRESS.sub('<address>', line.replace(project + '-', 'socket-lab-')) for line in lines]
    return [PORT.sub(r'\1<port>)', line) for line in shown]


@pytest.mark.parametrize('path, heading, blocks', REPLAYED)
def test_a_transcript_prints_what_the_docs_show(path, heading, blocks):
    project = project_name('-docs-' + re.sub(r'[^a-z0-9]+', '-', heading.lower()).strip('-'))[:63].rstrip('-')
    text = (ROOT / path).read_text()
    try:
        for block in blocks:
            for args, shown in transcript(text, heading, block):
                output, _ = run(project, *args)  # a failing command is shown failing, with make's own line
                if not shown:
                    continue
                if '...' in shown:
                    shown = shown[:shown.index('...')]
                    output = output[:len(shown)]
                assert same(output, project) == same(shown, project), '{}, {}: make {}'.format(path, heading, ' '.join(args))
    finally:
        run(project, 'down')


# The instructor's guide's `make check` blocks, each SUBMISSION made as its comment says: {the folder the
# block names: (its client, its server: files of tests/lesson/, (old, new): the one edit)}.
SUBMISSIONS = {
    'space': (None, 'ServerPython-lesson2.py', ('"Received new connection from ", addr', '"Received new connection from", addr')),
    'drop': (None, 'ServerPython-lesson2.py', ('conn.sendall(data)', 'conn.sendall(data[:-1])')),
    'l3': ('ClientPython-tcp.py', None, None),
    'l7': ('ClientPython-tls-no-check.py', 'ServerPython-tls.py', None),
    'l7m': ('ClientPython-menu.py', None, None),
}
CHECK_RUN = re.compile(r'in \d+\.\d s\. Results in \S+:')


def checked_the_same(lines):
    """make check's lines with this run's own values made the guide's: its time and results folder, and
    (as for the other transcripts) addresses and a client's port."""
    return same([CHECK_RUN.sub('in <seconds> s. Results in <folder>:', line) for line in lines], 'socket-lab')


def check_blocks():
    text = (ROOT / 'docs' / 'instructor.md').read_text()
    blocks = [block for block in text.split('```\n')[1::2] if block.startswith('$ make check SUBMISSION=/tmp/sub/')]
    return [pytest.param(block, id=block.split()[3].rpartition('/')[2]) for block in blocks]


@pytest.mark.parametrize('block', check_blocks())
def test_the_instructors_check_transcripts_print_what_the_guide_shows(block, tmp_path):
    """Each `make check SUBMISSION=/tmp/sub/NAME` block of docs/instructor.md, on NAME as its comment says
    it is made (SUBMISSIONS), prints the block's lines: the same stages, scores and failure lines."""
    command, *shown = block.splitlines()
    args = shlex.split(command[len('$ make'):], comments=True)
    name = args[1].rpartition('/')[2]
    client, server, edit = SUBMISSIONS[name]
    if edit:
        assert edit[0] in (LESSON_FILES / (client or server)).read_text()
    folder = submission(tmp_path, client, server, edit)
    results = ROOT / 'results' / '.test-docs-{}'.format(tmp_path.name)
    try:
        output, _ = run(project_name('-docs-check-' + name), *args[:1], 'SUBMISSION=' + str(folder), *args[2:],
                        'RESULTS=' + str(results.relative_to(ROOT)), timeout=600)
    finally:
        shutil.rmtree(results, ignore_errors=True)
    assert checked_the_same(output) == checked_the_same(shown)
