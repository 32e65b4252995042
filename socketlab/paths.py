"""Where things are: the project, the lab's state under .lab/, the results folder; how files there are written."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / 'compose.yaml'
PUBLISH_FILE = ROOT / 'compose.publish.yaml'
CATALOGUE = ROOT / 'tests' / 'exchanges.yaml'
# The lessons' programs exactly as the lessons print them, at the steps a learner runs (the catalogue's `file:`).
LESSON_FILES = ROOT / 'tests' / 'lesson'
STATE = ROOT / '.lab'


def state_dir(project):
    """The folder of one lab's state (what impairs it, which server file it runs); removed by make down."""
    return STATE / project


def result_path(results, kind, suffix=''):
    """A new result's path in the RESULTS folder: KIND-DATE-TIME-ID[SUFFIX] (they sort by time; none two alike)."""
    import time
    import uuid
    return Path(results) / '{}-{}-{}{}'.format(kind, time.strftime('%Y%m%d-%H%M%S'), uuid.uuid4().hex[:4], suffix)


def write_atomic(path, data):
    """Writes PATH whole or not at all: a temporary file of a name no other writer has (two make
    commands, or two threads of one, may write the same file at once), renamed into place."""
    import tempfile  # here, not at the top: the learner's loop (make tcp) writes nothing
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix='.' + path.name + '.', suffix='.tmp')
    try:
        with os.fdopen(descriptor, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
