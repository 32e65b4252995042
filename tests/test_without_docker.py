"""A plain `pytest` on a machine without Docker runs the host-side tests and skips the Docker ones
with one reason line (played here by pointing the docker SDK at an engine that is not there)."""
import os
import subprocess
import sys

from socketlab.paths import ROOT


def test_plain_pytest_without_docker_skips_the_docker_tests_with_one_reason():
    env = {**os.environ, 'DOCKER_HOST': 'unix:///nonexistent/docker.sock'}
    done = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-n', '0', '-rs',
                           'tests/test_exchanges.py', 'tests/test_ladder.py'], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout
    reasons = {line.split(': ', 1)[1] for line in done.stdout.splitlines() if line.startswith('SKIPPED')}
    assert len(reasons) == 1 and reasons.pop().startswith('no Docker here: Docker Engine is not reachable')
    summary = done.stdout.splitlines()[-1]
    assert ' passed, ' in summary and ' skipped' in summary and 'failed' not in summary
