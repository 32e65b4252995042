"""make bench in a tiny configuration: the report's shape and sanity, never a timing."""
import csv
import json
import os
import subprocess

import pytest

import labkit

pytestmark = pytest.mark.docker
TINY = '--rounds 1 --rtt 20 --connections 10 --bulk 65536 --recv-sizes 1024,65536 --no-lab-speed'
FIGURES = ['rtt_p50_us', 'rtt_p99_us', 'conn_per_s', 'bulk_MBps']


@pytest.fixture(scope='module')
def report(tmp_path_factory, docker_client):
    results = tmp_path_factory.mktemp('results')
    done = subprocess.run(['make', 'bench', 'BENCH_ARGS=' + TINY, 'RESULTS=' + str(results)], cwd=labkit.ROOT,
                          capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr
    folder, = results.iterdir()
    return folder, json.loads((folder / 'bench.json').read_text()), done.stdout


def test_every_server_has_every_figure_and_its_ratio_to_socat(report):
    _, bench, stdout = report
    assert list(bench['servers']) == ['lesson', 'socat', 'ncat']
    for name, row in bench['servers'].items():
        assert all(row[figure] > 0 for figure in FIGURES), (name, row)
        assert row['rtt_p99_us'] >= row['rtt_p50_us']
        assert set(row['ratio_to_socat']) == set(FIGURES)
        assert row['ratio_to_socat']['bulk_MBps'] == pytest.approx(row['bulk_MBps'] / bench['servers']['socat']['bulk_MBps'])
        assert row['bulk_sent'] == row['bulk_echoed'] == 65536 and row['bulk_exact']  # echoed byte-exact
        assert stdout.count('\n  {} '.format(name)) == 1  # a row of the terminal table
    assert bench['servers']['socat']['ratio_to_socat'] == {figure: 1 for figure in FIGURES}


def test_receive_sizes_swept_with_socat_as_reference(report):
    folder, bench, _ = report
    assert list(bench['recv_size']) == ['1024', '65536', 'socat']
    for row in bench['recv_size'].values():
        assert row['bulk_MBps'] > 0 and row['bulk_sent'] == row['bulk_echoed'] == 65536
    with open(folder / 'recv_size.csv') as f:
        assert [row[0] for row in csv.reader(f)] == ['recv_size', '1024', '65536', 'socat']


def test_files_are_the_users_and_the_machine_is_described(report):
    folder, bench, _ = report
    for name in ('bench.json', 'servers.csv', 'recv_size.csv', 'recv_size.svg', 'recv_size.png'):
        assert (folder / name).stat().st_uid == os.getuid() and (folder / name).stat().st_size > 0
    assert (folder / 'recv_size.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert set(bench['machine']) == {'cores', 'kernel', 'docker_engine', 'compose', 'python'}
    assert bench['config']['rounds'] == 1 and bench['lab'] is None
