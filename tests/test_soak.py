"""make soak, small: the same server process serves every exchange in a row and every attempt at once,
and says what its memory, open files and log did (figures, not asserted: docs/performance.md has a full run)."""
import json
import subprocess

import pytest

from socketlab.paths import ROOT
from makeplay import person_env, project_name, run

pytestmark = [pytest.mark.measure, pytest.mark.docker, pytest.mark.xdist_group('soak')]


def test_soak_serves_every_exchange_with_one_server_process():
    project = project_name('-soak')
    try:
        done = subprocess.run(['make', 'soak', 'SOAK_EXCHANGES=30', 'SOAK_CONNECTIONS=10', 'LAB_PROJECT=' + project],
                              cwd=ROOT, env=person_env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.splitlines()[-1])
        assert (result['delivered'], result['at_once_delivered'], result['same_server']) == (30, 10, True)
        assert result['after']['open_files'] == result['before']['open_files']  # every connection closed
    finally:
        run(project, 'down')
