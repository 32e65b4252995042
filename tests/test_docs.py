"""The docs' transcripts replayed: each `$ make ...` of a block below run on a lab of the suite's own,
and what it prints compared with what the block shows, line by line (this run's lab names, addresses
and ports put in for the block's; a `...` line ends what is compared; a command shown with no lines
after it is run, its output not shown). So the README a new user opens, and the guides' blocks named
here, cannot drift from what make prints. The instructor's guide's make check blocks are replayed by
tests/test_check.py, each as one of its cases (its verdicts checked on the same run)."""
import re
import shlex

import pytest

from socketlab.paths import ROOT
from makeplay import project_name, run, same

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group('docs')]
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
