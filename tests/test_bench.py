"""make bench in a tiny configuration: the report's shape and sanity, never a timing."""
import csv
import json
import os
import shutil
import subprocess

import pexpect
import pytest

from socketlab.paths import ROOT
from socketlab import engine
from makeplay import SIGNALS, SILENCE, Created, containers, interrupt, person_env

pytestmark = [pytest.mark.measure, pytest.mark.docker, pytest.mark.xdist_group('bench')]
TINY = '--rounds 1 --rtt 20 --connections 10 --bulk 65536 --recv-sizes 1024,65536 --concurrency 1,3 --exchanges 6'
FIGURES = ['rtt_p50_us', 'rtt_p99_us', 'conn_per_s', 'bulk_MBps']
MEASURING = 300  # seconds a measurement may go without printing: far past what it needs alone (a few)
SLOW_BENCH = '--rounds 1 --rtt 20 --connections 10 --bulk 65536 --recv-sizes 1,1024 --parts servers,recv-sizes'


@pytest.fixture(scope='module')
def watched():
    """Every container the bench creates, inspected at its creation."""
    run = os.environ['SOCKET_LAB_RUN']
    created = Created(engine.RUN_LABEL, keep=lambda labels: labels.get(engine.RUN_LABEL, '').startswith(run + '-bench-'))
    yield created
    created.close()


@pytest.fixture(scope='module')
def report(watched):
    results = ROOT / 'results' / '.test-{}-bench'.format(os.environ['SOCKET_LAB_RUN'])
    tracked = subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout
    done = subprocess.run(['make', 'bench', 'BENCH_ARGS=' + TINY, 'RESULTS=' + str(results.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=person_env())
    folder, = results.iterdir()
    yield done, folder, json.loads((folder / 'bench.json').read_text()), tracked
    shutil.rmtree(results)


def test_bench_runs_and_edits_no_file_of_the_project(report):
    done, _, _, tracked = report
    assert done.returncode == 0, done.stderr
    assert subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout == tracked


def test_every_server_has_every_figure_and_its_ratio_to_socat(report):
    done, _, bench, _ = report
    assert list(bench['servers']) == ['lesson', 'socat', 'ncat']
    for name, row in bench['servers'].items():
        assert all(row[figure] > 0 for figure in FIGURES), (name, row)
        assert row['rtt_p99_us'] >= row['rtt_p50_us']
        assert set(row['ratio_to_socat']) == set(FIGURES)
        assert row['ratio_to_socat']['bulk_MBps'] == pytest.approx(row['bulk_MBps'] / bench['servers']['socat']['bulk_MBps'])
        assert row['bulk_sent'] == row['bulk_echoed'] == 65536 and row['bulk_exact']  # echoed byte-exact
        first_table = done.stdout.split("The next lesson's servers")[0]
        assert first_table.count('\n  {} '.format(name)) == 1  # a row of the terminal table
    assert bench['servers']['socat']['ratio_to_socat'] == {figure: 1 for figure in FIGURES}


def test_receive_sizes_swept_with_socat_as_reference(report):
    _, folder, bench, _ = report
    assert list(bench['recv_size']) == ['1024', '65536', 'socat']
    for row in bench['recv_size'].values():
        assert row['bulk_MBps'] > 0 and row['bulk_sent'] == row['bulk_echoed'] == 65536
    with open(folder / 'recv_size.csv') as f:
        assert [row[0] for row in csv.reader(f)] == ['recv_size', '1024', '65536', 'socat']


def test_the_next_lessons_stages_side_by_side_with_socat(report):
    done, _, bench, _ = report
    assert list(bench['stages']) == ['simple', 'threads', 'counter', 'lock', 'select', 'poll', 'thread-pool', 'socat']
    for name, rows in bench['stages'].items():
        assert list(rows) == ['1', '3']
        for row in rows.values():
            assert row['failed'] == 0 and row['exchanges_per_s'] > 0 and row['p99_ms'] >= row['p50_ms'] > 0, (name, row)
    # the lock keeps the lesson's 0.1 s of latency inside it: its exchanges never overlap
    assert bench['stages']['lock']['3']['p50_ms'] >= 100
    assert "The next lesson's servers" in done.stdout


def test_files_are_the_users_and_the_machine_is_described(report):
    _, folder, bench, _ = report
    for name in ('bench.json', 'servers.csv', 'recv_size.csv', 'recv_size.svg', 'recv_size.png', 'stages.svg', 'stages.png'):
        assert (folder / name).stat().st_uid == os.getuid() and (folder / name).stat().st_size > 0
    assert (folder / 'recv_size.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert set(bench['machine']) == {'cores', 'kernel', 'docker_engine', 'python'}
    assert bench['config']['rounds'] == 1


@pytest.mark.parametrize('args, message', [
    ('--rounds 0', '--rounds must be from 1 to 20'),
    ('--bulk 99999999999', '--bulk must be from 1 to 268435456'),
    ("'--rtt", 'bad BENCH_ARGS'),
])
def test_bench_refuses_bad_arguments_in_one_line(args, message):
    done = subprocess.run(['make', 'bench', 'BENCH_ARGS=' + args], cwd=ROOT, capture_output=True, text=True, timeout=SILENCE,
                          env=person_env())
    assert done.returncode == 2 and message in done.stderr.splitlines()[-2]


def test_the_bench_containers_are_hardened_as_the_lab_makes_its_own(report, watched):
    """Servers, peers and load clients, as the Engine inspected them at their creation. Two differences,
    on purpose: the servers' output goes nowhere (through docker's log driver the bulk echo measured
    the driver), and the forking peers, the threaded stages and the load may run 1024 processes."""
    created = [attrs for inspected in watched.close().values() for attrs in inspected]
    assert len(created) >= 3 + 7 + 1, [attrs['Name'] for attrs in created]  # servers, stages, at least a load
    wire = {'impair-server': ['NET_ADMIN'], 'queue-server': ['NET_ADMIN', 'NET_RAW']}  # the delay part's helpers, as the lab's
    assert {attrs['Config']['Labels'].get(engine.SERVICE_LABEL) for attrs in created} >= set(wire)
    for attrs in created:
        host, name = attrs['HostConfig'], attrs['Name']
        added = wire.get(attrs['Config']['Labels'].get(engine.SERVICE_LABEL))
        assert attrs['Config']['User'] == ('0:0' if added else '10001:10001'), name
        assert host['CapDrop'] == ['ALL'] and sorted(host['CapAdd'] or []) == (added or []), name
        assert host['ReadonlyRootfs'] and 'no-new-privileges:true' in host['SecurityOpt'] and host['Init'], name
        assert host['Memory'] == 128 << 20 and host['NanoCpus'] == 10 ** 9 and host['PidsLimit'] in (64, 1024), name
        assert host['LogConfig'] in ({'Type': 'none', 'Config': {}},
                                     {'Type': 'json-file', 'Config': {'max-file': '2', 'max-size': '1m'}}), name
        assert not host['PortBindings'] and not any('docker.sock' in m['Source'] or m['RW'] for m in attrs['Mounts']), name


def test_a_delay_on_the_lesson_servers_packets_adds_at_least_itself_to_its_round_trip(report):
    """Measured, not assumed: the lab's own impairment on the bench's lesson server (its 100 ms held on
    every packet the server sends), the round trip's median at least that much longer."""
    done, _, bench, _ = report
    delay = bench['delay']
    assert delay['delay'] == '100ms' and delay['delayed_ms'] >= 100 and delay['added_ms'] >= 100 - delay['direct_ms']
    assert "with DELAY=100ms on its outgoing packets" in done.stdout


# Stopped (here, in this module's group: one bench at a time, so that what a bench leaves is its own).
@pytest.mark.parametrize('stop', SIGNALS)
def test_make_bench_stopped_keeps_what_it_measured_and_removes_its_servers(stop):
    run = os.environ['SOCKET_LAB_RUN']
    results = ROOT / 'results' / '.test-{}-interrupted-bench-{}'.format(run, stop.__name__)
    terminal = pexpect.spawn('make', ['bench', 'RESULTS=' + str(results.relative_to(ROOT)), 'BENCH_ARGS=' + SLOW_BENCH],
                             cwd=str(ROOT), env=person_env(), encoding='utf-8', timeout=MEASURING)
    try:
        # the echo servers' table is measured and written, the receive sizes (RECV_SIZE=1 first) under way
        status, _ = interrupt(terminal, lambda: terminal.expect_exact('receive sizes') == 0, stop, 'make bench never measured',
                              timeout=MEASURING)
        assert status != 0
        assert 'what it measured so far is in' in terminal.before
        (folder,) = results.iterdir()
        measured = json.loads((folder / 'bench.json').read_text())  # whole: a file written at once
        assert list(measured['servers']) == ['lesson', 'socat', 'ncat'] and measured['recv_size'] is None
        assert not list(results.rglob('*.tmp'))
        assert not containers(lambda labels: labels.get(engine.RUN_LABEL, '').startswith(run + '-bench-'))
    finally:
        shutil.rmtree(results, ignore_errors=True)
