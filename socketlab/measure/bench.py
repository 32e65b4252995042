"""make bench: the lesson's echo server beside echo servers no one here wrote (socat, ncat), on a
bridge network of its own, one server at a time and interleaved over rounds (A B C A B C ...) so a
noisy machine hurts all alike; then the lesson's receive size swept against bulk throughput; then the
next lesson's stages; then the lesson server's round trip with a delay (make impair's own mechanism)
on its outgoing packets, against without: what the delay adds, measured. Every load
is bounded in count and time; everything it starts (and only that) it removes; it edits no file of the
project and runs no other make target. (The lab's own speed is make speed.)

    make bench BENCH_ARGS='[--rounds 3] [--rtt 2000] [--connections 300] [--bulk 8388608]
                           [--recv-sizes 256,...,262144]'

Results go to RESULTS/bench-TIME-ID/: bench.json (everything measured so far, rewritten whole after
each part, so a failure or Ctrl-C keeps what was measured), servers.csv, recv_size.csv, and
recv_size.svg / .png (bulk throughput against the lesson server's receive size, socat as a line).
"""
import csv
import json
import os
import platform
import re
import statistics
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import containers, engine, settings as checked, topology
from ..paths import result_path, write_atomic
from ..wire import impair

PORT = 12345
LOAD = (Path(__file__).parent / 'load.py').read_text()
# The peers, each in a container from the lab's base image, each an echo server on PORT.
PEERS = {
    # -b 4096: socat copies into its PIPE, which it alone reads, up to a block at a time; with its default
    # 8 KiB blocks a write to a pipe with one free 4 KiB slot blocks it for good (8 MiB echoes stopped in 2
    # of 8 runs here; with 4 KiB, none of 24).
    'socat': ['socat', '-b', '4096', 'TCP-LISTEN:{},fork,reuseaddr'.format(PORT), 'PIPE'],
    # --max-conns: with --keep-open and --exec, ncat 7.93 stops serving after its limit (100) of
    # connections in all, not at once (seen here after the connection-rate test): lift it.
    'ncat': ['ncat', '--listen', '--keep-open', '--max-conns', '100000', str(PORT), '--exec', '/bin/cat'],
}
FIGURES = ['rtt_p50_us', 'rtt_p99_us', 'conn_per_s', 'bulk_MBps']
BULK_RETRIES = 2  # a bulk run whose echo stopped is run again (up to this many times), and says so
DEFAULT_SIZES = [256 << i for i in range(11)]  # 256 B .. 256 KiB


def progress(text):
    """One progress line, rewritten in place on a terminal; a line each elsewhere."""
    if sys.stderr.isatty():
        print('\r\033[K' + text, end='', file=sys.stderr, flush=True)
    elif text:
        print(text, file=sys.stderr, flush=True)


class Bench:
    """The bench's network and servers: hardened as compose.yaml's server, labelled for the sweep."""

    def __init__(self, target):
        self.client = engine.client()
        settings = target.settings
        self.target, self.settings = target, settings
        # Its own run (a bench that a test runs must not sweep the suite's things), inside the run that
        # started it, if any: that run's sweep then removes what a bench cut short left.
        from ..sweep import child_run
        self.run = child_run('bench')
        self.labels = {engine.RUN_LABEL: self.run}
        # The Engine is asked to create things from a thread of the bench's own: Ctrl-C may stop the bench
        # while one is being created, and close() waits for that before it sweeps, so none is missed.
        self.creating = ThreadPoolExecutor(1)
        self.network = self._create(self.client.networks.create, 'socket-lab-' + self.run, driver='bridge', labels=self.labels)
        # The servers' and loads' containers as compose.yaml makes the server's (hardening, limits, mounts, bounded
        # logs), made by the lab's one builder (socketlab.containers); their environment the bench's own.
        services = topology.normalised_services(target)
        self.service = {key: value for key, value in services['server'].items() if key not in ('stdin_open', 'tty', 'entrypoint')}
        self.server_image, self.client_image = services['server']['image'], services['client']['image']
        self.servers = {}

    def start(self, name, image, command, env=None, entrypoint=None, pids_limit=None):
        # The lesson's server prints every chunk it reads: through docker's log driver, its bulk echo
        # measures the driver (here it stalled); the bench measures the server, so its output goes nowhere.
        changes = {'log_config': {'Type': 'none', 'Config': {}}, 'hostname': name, 'image': image}
        if pids_limit:
            changes['pids_limit'] = pids_limit
        if entrypoint:
            changes['entrypoint'] = entrypoint
        container = self._create(containers.create, self.service, 'socket-lab-{}-{}'.format(self.run, name), command,
                                 environment=env, own_environment=True, labels=self.labels, network=self.network.name, **changes)
        self.servers[name] = container
        containers.start(container, containers.Listening(PORT, 'the {} server'.format(name)))

    def load(self, name, *args):
        """One run of load.py against one server, from a fresh container on the network."""
        container = self._create(
            containers.create, self.service, 'socket-lab-{}-load-{}'.format(self.run, uuid.uuid4().hex[:8]),
            [LOAD, self.servers[name].name, str(PORT), *map(str, args)], own_environment=True, labels=self.labels,
            network=self.network.name, image=self.client_image, entrypoint=['python3', '-c'],
            pids_limit=1024)  # up to 200 client threads at once
        try:
            container.start()
            status = container.wait()['StatusCode']
            output = container.logs(stdout=True, stderr=False).decode(errors='replace').strip().splitlines()
            if status != 0:
                last = container.logs(stdout=False, stderr=True).decode(errors='replace').strip().splitlines() or ['no output']
                raise RuntimeError('the load against {} failed: {}'.format(name, last[-1]))
        finally:
            containers.remove(container)
        return json.loads(output[-1])

    def _create(self, function, *args, **kwargs):
        return self.creating.submit(function, *args, **kwargs).result()

    def close(self):
        """Removes everything it started (a load container interrupted by Ctrl-C included), once
        what the Engine was creating when the bench was stopped exists."""
        from ..sweep import sweep
        self.creating.shutdown(wait=True)
        sweep(self.run)


def lesson(size):
    return 'lesson' if size == 1024 else 'lesson-{}'.format(size)


def retried(bench, name, run, size):
    """RUN, with its bulk part run again while its echo stopped (at most BULK_RETRIES times): its last
    attempt's bulk figures, and how many attempts stopped (bulk_stops)."""
    run = {**run, 'bulk_stops': int(run['bulk_stalled'])}
    while run['bulk_stalled'] and run['bulk_stops'] <= BULK_RETRIES:
        progress('{}: its bulk echo stopped; running it again'.format(name))
        again = bench.load(name, 0, 0, size)
        run.update({key: again[key] for key in again if key.startswith('bulk_')}, bulk_stops=run['bulk_stops'] + again['bulk_stalled'])
    return run


def spread(values):
    """[lowest, highest] of the values that were measured (None if none was): a figure's spread over the rounds."""
    measured = [value for value in values if value is not None]
    return [min(measured), max(measured)] if measured else None


def echo_servers(bench, flags):
    """Rounds of the three figures per server, interleaved; the medians, their spreads and the ratios to socat."""
    names = ['lesson', *PEERS]
    runs = {name: [] for name in names}
    for round_ in range(flags.rounds):
        for name in names:
            progress('echo servers: round {}/{}, {}'.format(round_ + 1, flags.rounds, name))
            runs[name].append(retried(bench, name, bench.load(name, flags.rtt, flags.connections, flags.bulk), flags.bulk))
    table = {}
    for name in names:
        table[name] = {figure: median(run[figure] for run in runs[name]) for figure in FIGURES}
        table[name]['spread'] = {figure: spread(run[figure] for run in runs[name]) for figure in FIGURES}
        table[name]['bulk_sent'] = sum(run['bulk_sent'] for run in runs[name])
        table[name]['bulk_echoed'] = sum(run['bulk_echoed'] for run in runs[name])
        table[name]['bulk_exact'] = all(run['bulk_exact'] for run in runs[name])
        table[name]['bulk_stalled'] = sum(run['bulk_stalled'] for run in runs[name])
        table[name]['bulk_stops'] = sum(run['bulk_stops'] for run in runs[name])
    for name in names:
        table[name]['ratio_to_socat'] = {figure: ratio(table[name][figure], table['socat'][figure]) for figure in FIGURES}
    return table, runs


def delayed(bench, flags):
    """The lesson server's RTT without and with DELAY on its outgoing packets (make impair's mechanism):
    what the delay adds, measured, not assumed."""
    progress('delay: the lesson server direct')
    direct = bench.load('lesson', flags.delay_rtt, 1, 1)['rtt_p50_us'] / 1000
    progress('delay: the lesson server with DELAY={}'.format(flags.delay))
    labels = {**bench.labels, engine.PROJECT_LABEL: 'socket-lab-' + bench.run}  # the bench's, not the lab's
    way, undo = impair.delay_beside(bench.target, bench.servers['lesson'], flags.delay, labels)
    mechanism = 'netem' if way == 'netem' else 'the user-space queue: no netem here'
    try:
        late = bench.load('lesson', flags.delay_rtt, 1, 1)['rtt_p50_us'] / 1000
    finally:
        undo()
    return {'delay': flags.delay, 'mechanism': mechanism, 'direct_ms': direct, 'delayed_ms': late, 'added_ms': late - direct}


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
            runs[size].append(retried(bench, lesson(size), bench.load(lesson(size), 0, 0, flags.bulk), flags.bulk))
        progress('receive sizes: round {}/{}, socat'.format(round_ + 1, flags.rounds))
        runs['socat'].append(retried(bench, 'socat', bench.load('socat', 0, 0, flags.bulk), flags.bulk))
    return {str(key): {'bulk_MBps': median(run['bulk_MBps'] for run in value),
                       'spread': spread(run['bulk_MBps'] for run in value),
                       'bulk_sent': sum(run['bulk_sent'] for run in value),
                       'bulk_echoed': sum(run['bulk_echoed'] for run in value),
                       'bulk_stalled': sum(run['bulk_stalled'] for run in value),
                       'bulk_stops': sum(run['bulk_stops'] for run in value)} for key, value in runs.items()}


def machine(compose=None):
    """What the figures were measured on (make speed adds the compose it used)."""
    info = {'cores': os.cpu_count(), 'kernel': platform.release(),
            'docker_engine': engine.client().version()['Version'], 'python': platform.python_version()}
    if compose is not None:
        info['compose'] = compose.name
    return info


# The next lesson's servers (make lab STAGE=...) measured side by side; counter-without-global,
# the as-printed select and poll are left out: they do not serve (that is what they show).
BENCH_STAGES = ['simple', 'threads', 'counter', 'lock', 'select', 'poll', 'thread-pool']


def stage(name):
    return 'stage-' + name


def stages(bench, flags):
    """Each stage (and socat) under 1, 10 and 100 clients at once: exchanges per second, p50/p99 of an
    exchange's time, failures; interleaved over the rounds like the rest."""
    table = {name: {} for name in BENCH_STAGES + ['socat']}
    for round_ in range(flags.rounds):
        for clients in flags.concurrency:
            for name in table:
                progress('stages: round {}/{}, {} clients at once, {}'.format(round_ + 1, flags.rounds, clients, name))
                server = 'socat' if name == 'socat' else stage(name)
                total = max(flags.exchanges, clients)
                table[name].setdefault(str(clients), []).append(bench.load(server, 'concurrent', clients, total))
    return {name: {clients: {key: median(run[key] for run in runs) for key in ('exchanges_per_s', 'p50_ms', 'p99_ms')}
                   | {'spread': spread(run['exchanges_per_s'] for run in runs), 'failed': sum(run['failed'] for run in runs)}
                   for clients, runs in rows.items()}
            for name, rows in table.items()}


def plot_stages(table, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for name, rows in table.items():
        xs = [int(c) for c in rows]
        axes.plot(xs, [rows[c]['exchanges_per_s'] for c in rows], marker='o', label=name,
                  linestyle='--' if name == 'socat' else '-')
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xticks(xs, [str(x) for x in xs])
    axes.set_xlabel('clients at once')
    axes.set_ylabel("the lesson's exchanges per second")
    axes.set_title("The next lesson's servers under clients at once")
    axes.grid(True, which='both', alpha=0.3)
    axes.legend(fontsize='small')
    figure.tight_layout()
    for suffix in ('.svg', '.png'):
        figure.savefig(path.with_suffix(suffix))


def plot(sizes, reference, path, bulk):
    import matplotlib
    matplotlib.use('Agg')  # files only, no display
    import matplotlib.pyplot as plt
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


def _range(values, digits=0):
    """A spread as text: lowest-highest."""
    return '-' if values is None else '{:.{d}f}-{:.{d}f}'.format(*values, d=digits)


def report_stages(table):
    clients = list(next(iter(table.values())))
    lines = ["The next lesson's servers: the lesson's exchange with clients at once (medians; "
             'exchanges/s [lowest-highest over the rounds], p50 / p99 of one exchange in ms)',
             '  {:<12}'.format('server') + ''.join('{:>36}'.format('{} at once'.format(c)) for c in clients)]
    for name, rows in table.items():
        cells = []
        for c in clients:
            row = rows[c]
            cell = '{:.0f}/s [{}] {:.1f} / {:.1f}'.format(row['exchanges_per_s'], _range(row['spread']), row['p50_ms'] or 0,
                                                       row['p99_ms'] or 0)
            cells.append('{:>36}'.format(cell + (' ({} failed)'.format(row['failed']) if row['failed'] else '')))
        lines.append('  {:<12}'.format(name) + ''.join(cells))
    return '\n'.join(lines) + '\n'


def _stops(name, row, runs):
    """The line that says how often a server's bulk echo stopped, if it did."""
    if not row['bulk_stops']:
        return []
    still = ('; {} of {} still stopped after {} more tries (reported, not waited for)'.format(row['bulk_stalled'], runs, BULK_RETRIES)
             if row['bulk_stalled'] else '; each run again until it completed')
    times = '{} time{}'.format(row['bulk_stops'], '' if row['bulk_stops'] == 1 else 's')
    return ['  {:<10} bulk: the echo stopped {} in {} runs{}'.format('', times, runs, still)]


def report_servers(table, runs):
    lines = ['Echo servers (medians; in brackets: as a ratio to socat; below each: lowest-highest over the rounds)',
             '  {:<10} {:>18} {:>18} {:>18} {:>18}'.format('server', 'RTT p50 (us)', 'RTT p99 (us)', 'connections/s', 'bulk (MB/s)')]
    for name, row in table.items():
        digits = {f: 1 if f == 'bulk_MBps' else 0 for f in FIGURES}
        cells = ['stalled' if row[f] is None else '{:.{}f} ({:.2f}x)'.format(row[f], digits[f], row['ratio_to_socat'][f])
                 for f in FIGURES]
        lines.append('  {:<10} {:>18} {:>18} {:>18} {:>18}'.format(name, *cells))
        lines.append('  {:<10} {:>18} {:>18} {:>18} {:>18}'.format('', *(_range(row['spread'][f], digits[f]) for f in FIGURES)))
        lines += _stops(name, row, len(runs[name]))
    return '\n'.join(lines) + '\n'


def report_sizes(sizes, rounds):
    lines = ["Bulk throughput against the lesson server's receive size (MB/s; median, lowest-highest over the rounds)"]
    for size, row in sizes.items():
        lines.append('  {:>10}  {}'.format(size, 'stalled' if row['bulk_MBps'] is None else '{:.1f}  [{}]'.format(
            row['bulk_MBps'], _range(row['spread'], 1))))
        lines += _stops(size, row, rounds)
    return '\n'.join(lines) + '\n'


def rounded(value, digits):
    return '' if value is None else round(value, digits)


def parse_command_line_arguments(args):
    parser = checked.OneLineParser(prog='make bench BENCH_ARGS=', description=__doc__.split('\n\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--rtt', type=int, default=2000, help='round trips over one connection')
    parser.add_argument('--connections', type=int, default=300, help='sequential connections')
    parser.add_argument('--bulk', type=int, default=8 << 20, help='bytes echoed in the bulk test')
    parser.add_argument('--recv-sizes', type=lambda text: [int(size) for size in text.split(',')], default=DEFAULT_SIZES)
    parser.add_argument('--concurrency', type=lambda text: [int(n) for n in text.split(',')], default=[1, 10, 100],
                        help="clients at once, for the next lesson's stages")
    parser.add_argument('--parts', type=lambda text: text.split(','), default=['servers', 'recv-sizes', 'stages', 'delay'],
                        help='which parts to measure: servers, recv-sizes, stages, delay')
    parser.add_argument('--delay', default='100ms', help="the delay part: on the lesson server's outgoing packets")
    parser.add_argument('--delay-rtt', type=int, default=20, help='round trips measured with and without it')
    parser.add_argument('--exchanges', type=int, default=100, help='exchanges per stage and concurrency (at least one per client)')
    flags = parser.parse_args(args)
    # Bounded: every count and size from 1 to a limit that keeps a run within minutes.
    limits = {'rounds': 20, 'rtt': 100000, 'connections': 10000, 'bulk': 256 << 20, 'exchanges': 10000, 'delay_rtt': 200}
    for name, most in limits.items():
        if not 1 <= getattr(flags, name) <= most:
            parser.error('--{} must be from 1 to {}'.format(name, most))
    if not all(1 <= size <= 1 << 24 for size in flags.recv_sizes):
        parser.error('--recv-sizes must each be from 1 to 16777216')
    if not set(flags.parts) <= {'servers', 'recv-sizes', 'stages', 'delay'}:
        parser.error('--parts must be a list of servers, recv-sizes, stages and delay')
    if not re.fullmatch(impair.DURATION, flags.delay) or float(impair.milliseconds(flags.delay)) == 0:
        parser.error('--delay must be a number and a unit, more than 0, e.g. 100ms')
    if not all(1 <= n <= 200 for n in flags.concurrency):
        parser.error('--concurrency must each be from 1 to 200')
    return flags


def write_json(path, data):
    """Written whole or not at all: what was measured so far is never half a file."""
    write_atomic(path, json.dumps(data, indent=2) + '\n')


def main(target):
    settings = target.settings
    flags = parse_command_line_arguments(list(settings.bench_args))
    out = result_path(settings.results, 'bench')
    out.mkdir(parents=True)
    result = {'machine': machine(), 'config': vars(flags), 'servers': None, 'runs': None, 'recv_size': None, 'stages': None,
              'delay': None}
    write_json(out / 'bench.json', result)
    bench = Bench(target)
    try:
        for size in sorted(set(flags.recv_sizes) | {1024}):
            progress('starting the servers: the lesson with RECV_SIZE={}'.format(size))
            bench.start(lesson(size), bench.server_image, ['--port={}'.format(PORT)],
                        env={'LISTEN_ADDRESS': '0.0.0.0', 'RECV_SIZE': str(size)})
        for name in BENCH_STAGES:
            progress('starting the servers: the lesson with STAGE={}'.format(name))
            # a thread per client: 100 clients at once are 100 threads, past the lab's 64 processes
            bench.start(stage(name), bench.server_image, ['--port={}'.format(PORT)],
                        env={'LISTEN_ADDRESS': '0.0.0.0', 'SERVER_STAGE': name}, pids_limit=1024)
        for name, command in PEERS.items():
            progress('starting the servers: {}'.format(name))
            # socat and ncat fork a process per connection, and socat's lingers half a second after
            # the close: the lab's limit of 64 processes would stop them in the connection-rate test.
            bench.start(name, bench.server_image, command[1:], entrypoint=command[:1], pids_limit=1024)
        table = runs = sizes = staged = None
        if 'servers' in flags.parts:
            table, runs = echo_servers(bench, flags)
            result.update(servers=table, runs=runs)
            write_json(out / 'bench.json', result)
        if 'recv-sizes' in flags.parts:
            sizes = receive_sizes(bench, flags)
            result['recv_size'] = sizes
            write_json(out / 'bench.json', result)
        if 'stages' in flags.parts:
            staged = stages(bench, flags)
            result['stages'] = staged
            write_json(out / 'bench.json', result)
        if 'delay' in flags.parts:
            result['delay'] = delayed(bench, flags)
            write_json(out / 'bench.json', result)
    except KeyboardInterrupt:
        print('\nbench: stopped; what it measured so far is in {}; what it started is removed'.format(out / 'bench.json'), file=sys.stderr)
        return 130
    except RuntimeError as error:
        print('\nbench: error: {}; what it measured so far is in {}'.format(error, out / 'bench.json'), file=sys.stderr)
        return 1
    finally:
        bench.close()
    progress('')
    if result['delay'] is not None:
        print("The lesson server's RTT (p50) with DELAY={delay} on its outgoing packets, by the lab's own impairment "
              "({mechanism}): {delayed_ms:.1f} ms; without: {direct_ms:.2f} ms; added: {added_ms:.1f} ms\n".format(**result['delay']))
    if table is not None:
        with open(out / 'servers.csv', 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['server', *FIGURES, *('{}_ratio_to_socat'.format(f) for f in FIGURES)])
            for name, row in table.items():
                writer.writerow([name, *(rounded(row[f], 2) for f in FIGURES), *(rounded(row['ratio_to_socat'][f], 3) for f in FIGURES)])
        print(report_servers(table, runs))
    if sizes is not None:
        with open(out / 'recv_size.csv', 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['recv_size', 'bulk_MBps'])
            writer.writerows([size, rounded(row['bulk_MBps'], 2)] for size, row in sizes.items())
        plot({k: v for k, v in sizes.items() if k != 'socat'}, sizes['socat']['bulk_MBps'], out / 'recv_size', flags.bulk)
        print(report_sizes(sizes, flags.rounds))
    if staged is not None:
        plot_stages(staged, out / 'stages')
        print(report_stages(staged))
    print('Machine: {cores} cores, kernel {kernel}, Docker Engine {docker_engine}'.format(**result['machine']))
    print('\nResults in {}'.format(out))
    return 0
