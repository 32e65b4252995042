"""make bench: the lesson's echo server beside echo servers no one here wrote (socat, ncat), on a
bridge network of its own, one server at a time and interleaved over rounds (A B C A B C ...) so a
noisy machine hurts all alike; then the lesson's receive size swept against bulk throughput; then the
lab's own speed. Every load is bounded in count and time; everything it starts, it removes.

    python3 bench/bench.py [--rounds 3] [--rtt 2000] [--connections 300] [--bulk 8388608]
                           [--recv-sizes 256,...,262144] [--lab-runs 3 | --no-lab-speed] [--results results]

Results go to RESULTS/bench-TIME/: bench.json (everything), servers.csv, recv_size.csv, and
recv_size.svg / .png (bulk throughput against the lesson server's receive size, socat as a line).
"""
import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'tests'))
import labkit  # noqa: E402  (the lab's compose facts and labels, shared with the test suite)

PORT = 12345
LOAD = (ROOT / 'bench' / 'load.py').read_text()
# The peers, each in a container from the lab's base image, each an echo server on PORT.
PEERS = {
    'socat': ['socat', 'TCP-LISTEN:{},fork,reuseaddr'.format(PORT), 'PIPE'],
    # --max-conns: with --keep-open and --exec, ncat 7.93 stops serving after its limit (100) of
    # connections in all, not at once (seen here after the connection-rate test): lift it.
    'ncat': ['ncat', '--listen', '--keep-open', '--max-conns', '100000', str(PORT), '--exec', '/bin/cat'],
}
FIGURES = ['rtt_p50_us', 'rtt_p99_us', 'conn_per_s', 'bulk_MBps']
DEFAULT_SIZES = [256 << i for i in range(11)]  # 256 B .. 256 KiB


def progress(text):
    """One progress line, rewritten in place on a terminal; a line each elsewhere."""
    if sys.stderr.isatty():
        print('\r\033[K' + text, end='', file=sys.stderr, flush=True)
    elif text:
        print(text, file=sys.stderr, flush=True)


class Bench:
    """The bench's network and servers: hardened as compose.yaml's server, labelled for the sweep."""

    def __init__(self, client):
        self.client = client
        # Its own run id: a bench started by the test suite must not share (and sweep) the suite's.
        self.run = 'bench-' + uuid.uuid4().hex[:8]
        self.labels = {labkit.SUITE_LABEL: self.run}
        self.network = client.networks.create('socket-lab-' + self.run, driver='bridge', labels=self.labels)
        self.hardening = labkit.docker_kwargs(labkit.load_compose()['services']['server'])
        for key in ('stdin_open', 'tty'):
            self.hardening.pop(key)
        self.servers = {}

    def start(self, name, image, command, env=None, entrypoint=None, pids_limit=None):
        hardening = {**self.hardening, 'pids_limit': pids_limit or self.hardening['pids_limit']}
        container = self.client.containers.run(
            image, command, entrypoint=entrypoint, environment=env or {}, detach=True, labels=self.labels,
            name='socket-lab-{}-{}'.format(self.run, name), hostname=name, network=self.network.name,
            log_config=docker.types.LogConfig(type='none'),  # the lesson's server prints every chunk
            **hardening)
        self.servers[name] = container
        deadline = time.monotonic() + labkit.WAIT
        while container.exec_run(['sh', '-c', "ss -Hltn 'sport = :{}' | grep -q LISTEN".format(PORT)]).exit_code:
            container.reload()
            if container.status != 'running' or time.monotonic() > deadline:
                raise RuntimeError('the {} server did not start listening'.format(name))
            time.sleep(0.05)

    def load(self, name, rtt, connections, bulk):
        """One run of bench/load.py against one server, from a fresh container on the network."""
        try:
            output = self.client.containers.run(
                'socket-lab/client', [LOAD, self.servers[name].name, str(PORT), str(rtt), str(connections), str(bulk)],
                entrypoint=['python3', '-c'], remove=True, labels=self.labels, network=self.network.name,
                **self.hardening)
        except docker.errors.ContainerError as error:
            last = (error.stderr or b'').decode(errors='replace').strip().splitlines() or ['no output']
            raise RuntimeError('the load against {} failed: {}'.format(name, last[-1])) from None
        return json.loads(output.decode().strip().splitlines()[-1])

    def close(self):
        """Removes everything it started (a load container interrupted by Ctrl-C included)."""
        labkit.sweep(self.client, run=self.run)


def lesson(size):
    return 'lesson' if size == 1024 else 'lesson-{}'.format(size)


def echo_servers(bench, flags):
    """Rounds of the three figures per server, interleaved; the medians and the ratios to socat."""
    names = ['lesson', *PEERS]
    runs = {name: [] for name in names}
    for round_ in range(flags.rounds):
        for name in names:
            progress('echo servers: round {}/{}, {}'.format(round_ + 1, flags.rounds, name))
            runs[name].append(bench.load(name, flags.rtt, flags.connections, flags.bulk))
    table = {}
    for name in names:
        table[name] = {figure: median(run[figure] for run in runs[name]) for figure in FIGURES}
        table[name]['bulk_sent'] = sum(run['bulk_sent'] for run in runs[name])
        table[name]['bulk_echoed'] = sum(run['bulk_echoed'] for run in runs[name])
        table[name]['bulk_exact'] = all(run['bulk_exact'] for run in runs[name])
        table[name]['bulk_stalled'] = sum(run['bulk_stalled'] for run in runs[name])
    for name in names:
        table[name]['ratio_to_socat'] = {figure: ratio(table[name][figure], table['socat'][figure]) for figure in FIGURES}
    return table, runs


def median(values):
    """The median of the values that were measured (a stalled bulk run has none); None if none was."""
    measured = [value for value in values if value is not None]
    return statistics.median(measured) if measured else None


def ratio(value, reference):
    return None if value is None or not reference else value / reference


def receive_sizes(bench, flags):
    """Bulk throughput of the lesson's server for each receive size, and socat's, interleaved."""
    runs = {size: [] for size in flags.recv_sizes}
    runs['socat'] = []
    for round_ in range(flags.rounds):
        for size in flags.recv_sizes:
            progress('receive sizes: round {}/{}, RECV_SIZE={}'.format(round_ + 1, flags.rounds, size))
            runs[size].append(bench.load(lesson(size), 0, 0, flags.bulk))
        progress('receive sizes: round {}/{}, socat'.format(round_ + 1, flags.rounds))
        runs['socat'].append(bench.load('socat', 0, 0, flags.bulk))
    return {str(key): {'bulk_MBps': median(run['bulk_MBps'] for run in value),
                       'bulk_sent': sum(run['bulk_sent'] for run in value),
                       'bulk_echoed': sum(run['bulk_echoed'] for run in value)} for key, value in runs.items()}


def timed(*command, env=None):
    start = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, **(env or {})})
    return time.monotonic() - start


def lab_speed(runs):
    """The lab's own speed, medians of `runs` runs, on a compose project of the bench's own. The cold
    runs remove the lab's images first (they are built again: that is what is measured)."""
    project = {'LAB_PROJECT': 'socket-lab-bench'}
    client_file = ROOT / 'client' / 'ClientPython.py'
    original = client_file.read_text()
    figures = {'cold_lab_s': [], 'warm_lab_s': [], 'edit_then_tcp_s': [], 'warm_test_s': []}
    try:
        for i in range(runs):
            progress('lab speed: run {}/{}, cold make lab'.format(i + 1, runs))
            timed('make', 'clean', env=project)
            figures['cold_lab_s'].append(timed('make', 'lab', env=project))
            progress('lab speed: run {}/{}, warm make lab'.format(i + 1, runs))
            figures['warm_lab_s'].append(timed('make', 'lab', env=project))
            progress('lab speed: run {}/{}, edit then make tcp'.format(i + 1, runs))
            client_file.write_text(original + '# bench edit {} {}\n'.format(time.time(), i))
            figures['edit_then_tcp_s'].append(timed('make', 'tcp', env=project))
            client_file.write_text(original)
            timed('make', 'down', env=project)
        for i in range(runs):
            progress('lab speed: run {}/{}, warm make test'.format(i + 1, runs))
            figures['warm_test_s'].append(timed('make', 'test'))
    finally:
        client_file.write_text(original)
        subprocess.run(['make', 'down'], cwd=ROOT, env={**os.environ, **project}, capture_output=True)
    result = {name: statistics.median(values) for name, values in figures.items()}
    result['runs'] = runs
    result['image_MB'] = {image: round(docker.from_env().images.get(image).attrs['Size'] / 1e6)
                          for image in ('socket-lab/base', 'socket-lab/server', 'socket-lab/client', 'socket-lab/netcat')}
    return result


def machine(client):
    compose = subprocess.run(['bash', '-c', 'docker compose version 2>/dev/null || docker-compose version --short'],
                             capture_output=True, text=True).stdout.strip()
    return {'cores': os.cpu_count(), 'kernel': platform.release(), 'docker_engine': client.version()['Version'],
            'compose': compose, 'python': platform.python_version()}


def plot(sizes, reference, path, bulk):
    figure, axes = plt.subplots(figsize=(8, 4.5))
    xs = [int(size) for size in sizes]
    axes.plot(xs, [sizes[size]['bulk_MBps'] for size in sizes], marker='o', label="the lesson's server")
    if reference is not None:
        axes.axhline(reference, color='tab:red', linestyle='--', label='socat (PIPE)')
    axes.axvline(1024, color='grey', linestyle=':', label="the lesson's recv(1024)")
    axes.set_xscale('log', base=2)
    axes.set_xticks(xs, ['{} KiB'.format(x >> 10) if x >= 1024 else '{} B'.format(x) for x in xs])
    axes.set_xlabel('receive size (bytes per recv call)')
    axes.set_ylabel('bulk echo throughput (MB/s)')
    axes.set_title('Echoing {:g} MiB: throughput against the receive size'.format(bulk / (1 << 20)))
    axes.grid(True, which='both', alpha=0.3)
    axes.legend()
    figure.tight_layout()
    for suffix in ('.svg', '.png'):
        figure.savefig(path.with_suffix(suffix))


def report(table, runs, sizes, speed, info):
    lines = ['Echo servers (medians; in brackets: as a ratio to socat)',
             '  {:<8} {:>18} {:>18} {:>18} {:>18}'.format('server', 'RTT p50 (us)', 'RTT p99 (us)', 'connections/s', 'bulk (MB/s)')]
    for name, row in table.items():
        cells = ['stalled' if row[f] is None else '{:.{}f} ({:.2f}x)'.format(
            row[f], 1 if f == 'bulk_MBps' else 0, row['ratio_to_socat'][f]) for f in FIGURES]
        lines.append('  {:<8} {:>18} {:>18} {:>18} {:>18}'.format(name, *cells))
        if row['bulk_stalled']:
            lines.append('  {:<8} bulk: the echo stopped in {} of {} runs (reported, not waited for)'.format(
                '', row['bulk_stalled'], len(runs[name])))
    lines += ['', "Bulk throughput against the lesson server's receive size (MB/s)"]
    lines += ['  {:>10}  {}'.format(size, 'stalled' if row['bulk_MBps'] is None else '{:.1f}'.format(row['bulk_MBps']))
              for size, row in sizes.items()]
    if speed:
        lines += ['', 'The lab itself (seconds, medians of {} runs)'.format(speed['runs'])]
        lines += ['  {:<18} {:.1f}'.format(name, speed[name]) for name in ('cold_lab_s', 'warm_lab_s', 'edit_then_tcp_s', 'warm_test_s')]
        lines += ['  image sizes (MB): ' + ', '.join('{} {}'.format(k, v) for k, v in speed['image_MB'].items())]
    lines += ['', 'Machine: {cores} cores, kernel {kernel}, Docker Engine {docker_engine}, compose {compose}'.format(**info)]
    return '\n'.join(lines)


def rounded(value, digits):
    return '' if value is None else round(value, digits)


def parse_command_line_arguments(args):
    parser = argparse.ArgumentParser(prog='bench', description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--rtt', type=int, default=2000, help='round trips over one connection')
    parser.add_argument('--connections', type=int, default=300, help='sequential connections')
    parser.add_argument('--bulk', type=int, default=8 << 20, help='bytes echoed in the bulk test')
    parser.add_argument('--recv-sizes', type=lambda text: [int(size) for size in text.split(',')], default=DEFAULT_SIZES)
    parser.add_argument('--lab-runs', type=int, default=3)
    parser.add_argument('--no-lab-speed', action='store_true', help="leave out the lab's own speed")
    parser.add_argument('--results', type=Path, default=ROOT / 'results')
    flags = parser.parse_args(args)
    if min(flags.rounds, flags.rtt, flags.connections, flags.bulk, *flags.recv_sizes) < 1:
        parser.error('every count and size must be at least 1')
    return flags


if __name__ == '__main__':
    flags = parse_command_line_arguments(sys.argv[1:])
    client = docker.from_env()
    out = flags.results / 'bench-{}'.format(time.strftime('%Y%m%d-%H%M%S'))
    bench = Bench(client)
    try:
        for size in sorted(set(flags.recv_sizes) | {1024}):
            progress('starting the servers: the lesson with RECV_SIZE={}'.format(size))
            bench.start(lesson(size), 'socket-lab/server', ['--port={}'.format(PORT)],
                        env={'LISTEN_ADDRESS': '0.0.0.0', 'RECV_SIZE': str(size)})
        for name, command in PEERS.items():
            progress('starting the servers: {}'.format(name))
            # socat and ncat fork a process per connection, and socat's lingers half a second after
            # the close: the lab's limit of 64 processes would stop them in the connection-rate test.
            bench.start(name, 'socket-lab/base', command[1:], entrypoint=command[:1], pids_limit=1024)
        table, runs = echo_servers(bench, flags)
        sizes = receive_sizes(bench, flags)
    except KeyboardInterrupt:
        sys.exit('\nbench: stopped; what it started is removed')
    except RuntimeError as error:
        sys.exit('\nbench: error: {}'.format(error))
    finally:
        bench.close()
    speed = None if flags.no_lab_speed else lab_speed(flags.lab_runs)
    progress('')
    info = machine(client)
    result = {'machine': info, 'config': {k: str(v) if isinstance(v, Path) else v for k, v in vars(flags).items()},
              'servers': table, 'runs': runs, 'recv_size': sizes, 'lab': speed}
    out.mkdir(parents=True)
    (out / 'bench.json').write_text(json.dumps(result, indent=2) + '\n')
    with open(out / 'servers.csv', 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['server', *FIGURES, *('{}_ratio_to_socat'.format(f) for f in FIGURES)])
        for name, row in table.items():
            writer.writerow([name, *(rounded(row[f], 2) for f in FIGURES), *(rounded(row['ratio_to_socat'][f], 3) for f in FIGURES)])
    with open(out / 'recv_size.csv', 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['recv_size', 'bulk_MBps'])
        writer.writerows([size, rounded(row['bulk_MBps'], 2)] for size, row in sizes.items())
    plot({k: v for k, v in sizes.items() if k != 'socat'}, sizes['socat']['bulk_MBps'], out / 'recv_size', flags.bulk)
    print(report(table, runs, sizes, speed, info))
    print('\nResults in {}: bench.json, servers.csv, recv_size.csv, recv_size.svg, recv_size.png'.format(out))
