"""Gradescope: `make gradescope` writes an autograder zip; Gradescope runs it in one container per
submission, with no Docker, so it plays make check's stages with the catalogue's one-host backend
(socketlab.onehost: processes on the container's loopback, as the lessons run their programs).

The zip holds setup.sh (installs nc where it is missing), run_autograder (this module's main), the
lab's package, the catalogue and the stages as JSON (no PyYAML needed), the lessons' programs and the
lab's reference programs (each stage's other side). run_autograder reads /autograder/submission and
writes /autograder/results/results.json, as Gradescope's specification says.
"""
import json
import sys
import time
import zipfile
from pathlib import Path

from .paths import ROOT

SETUP = '''#!/usr/bin/env bash
# Gradescope's setup: the lab needs python3 (3.11 or newer), bash, nc (netcat-openbsd), openssl (lesson
# 7's certificates) and gcc with libc6-dev (lesson 9's server in C).
set -euo pipefail
if ! command -v nc.openbsd >/dev/null || ! command -v python3 >/dev/null || ! command -v openssl >/dev/null \
        || ! command -v gcc >/dev/null || [ ! -e /usr/include/stdio.h ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 netcat-openbsd openssl gcc libc6-dev
fi
'''
RUN = '''#!/usr/bin/env bash
# Gradescope runs this for each submission: make check's stages, on this container's loopback.
cd /autograder/source && exec python3 -m socketlab.gradescope /autograder/submission /autograder/results/results.json
'''
# What the zip holds besides the package: the lessons' programs and the lab's reference ones.
PROGRAMS = ['server/ServerPython.py', 'server/RecordServer.py', 'client/ClientPython.py',
            'client/DataStructuresPython.py', 'client/test.log']  # lesson 7's protocol: its server, lesson 5's module, lesson 6's log


def build(out):
    """The autograder zip at OUT; its path."""
    import yaml
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
        def add(name, data, mode=0o644):
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.external_attr = mode << 16
            z.writestr(info, data)
        add('setup.sh', SETUP, 0o755)
        add('run_autograder', RUN, 0o755)
        for path in sorted((ROOT / 'socketlab').rglob('*.py')) + [ROOT / 'socketlab' / 'certificates.sh']:
            add(str(path.relative_to(ROOT)), path.read_bytes())
        for name in ('exchanges', 'checks'):
            add('tests/{}.json'.format(name), json.dumps(yaml.safe_load((ROOT / 'tests' / (name + '.yaml')).read_text())))
        for path in sorted((ROOT / 'tests' / 'lesson').glob('*.py')):
            add(str(path.relative_to(ROOT)), path.read_bytes())
        for name in PROGRAMS:
            add(name, (ROOT / name).read_bytes())
    return out


def make_zip(settings):
    """make gradescope."""
    out = build(settings.results / 'gradescope-autograder.zip')
    print('Gradescope autograder: {} (upload it as the assignment\'s autograder; "Ubuntu" base image)'.format(
        out.relative_to(ROOT)))
    return 0


def grade(submission, results):
    """Gradescope's run: make check's stages on the submission, results.json written whatever happens."""
    from . import check, onehost
    from .catalogue import load_catalogue
    checks = check.load_checks()
    table = check.points('', checks)
    try:
        files = check.submission(str(submission))
        rows = check.judge(None, files, checks, [c['stage'] for c in checks], table, load_catalogue(), 'gradescope',
                           shown=print, backend=onehost.HostLab)
        output = check.gradescope(rows)
    except check.SettingError as error:
        output = json.dumps({'score': 0, 'tests': [], 'output': str(error)}) + '\n'
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(output)
    return 0


if __name__ == '__main__':
    sys.exit(grade(Path(sys.argv[1]), Path(sys.argv[2])))
