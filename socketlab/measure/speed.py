"""make speed: the lab's own speed, with each compose, measured on a copy of the project under a
compose project and image names of its own, so the user's lab, images and files are never touched.

Each figure is a ratio to the floor measured in the same run: `docker run --rm` of the client's
container on the lab's network, what no lab can beat. Per run and compose (interleaved, so a noisy
machine hurts both alike): warm make lab, make tcp, an edited client then make tcp, an edited server
then make tcp. Then, once per compose, a cold make lab (its images removed first: the base image is
built again from nothing) and, once, the warm make test (the suite, under the compose it prefers).

    make speed SPEED_ARGS='[--runs 3] [--composes v2,v1] [--no-cold] [--no-suite]'

Results: RESULTS/speed-TIME-ID/speed.json (rewritten whole after each figure: a failure or Ctrl-C keeps
what was measured) and a table on the terminal, for docs/performance.md.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

from .. import compose as composes, engine, settings as checked
from ..paths import ROOT, result_path
from .bench import machine, write_json

# What a copy of the project needs to run make (the venv is shared: nothing is installed again).
# The whole project but its CI: the copy's make test replays the README's and the guides' transcripts.
COPIED = ['Makefile', 'README.md', 'compose.yaml', 'compose.publish.yaml', 'pyproject.toml', 'requirements', 'base', 'server',
          'server-c', 'client', 'netcat', 'socketlab', 'tests', 'docs']


def parse_command_line_arguments(args):
    parser = checked.OneLineParser(prog='make speed SPEED_ARGS=', description=__doc__.split('\n\n')[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--composes', default='v2,v1', help='which composes, in order (v2, v1)')
    parser.add_argument('--no-cold', action='store_true', help='leave out the cold make lab')
    parser.add_argument('--no-suite', action='store_true', help='leave out the warm make test')
    flags = parser.parse_args(args)
    flags.composes = flags.composes.split(',')
    if not 1 <= flags.runs <= 20 or not set(flags.composes) <= {'v2', 'v1'}:
        parser.error('--runs must be from 1 to 20 and --composes a list of v2 and v1')
    return flags


def copy_project(prefix):
    """A copy of what make needs of the project (COPIED), in a new temporary folder; its path."""
    folder = tempfile.mkdtemp(prefix=prefix)
    for name in COPIED:
        source, target = ROOT / name, os.path.join(folder, name)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__', '*.egg-info'))
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)
    return folder


class Copy:
    """A copy of the project in a temporary folder, with its own compose project and image names."""

    def __init__(self, settings):
        self.folder = copy_project('socket-lab-speed-')
        # Inside a run (make test), a name of the run's own, so that the run's sweep removes whatever a
        # stop at the wrong moment left of the copy: its containers, network and images.
        from ..sweep import image_prefix
        parent = os.environ.get('SOCKET_LAB_RUN')
        name = (image_prefix(parent) if parent else 'socket-lab-') + 'speed-' + uuid.uuid4().hex[:8]
        self.project, self.images = name, name
        self.env = {**os.environ, 'LAB_PROJECT': self.project, 'LAB_IMAGES': self.images, 'VENV': str(ROOT / '.venv'),
                    'SERVER_PORT': str(settings.server_port)}
        for name in ('PUBLISH', 'CAPTURE', 'ARGS', 'RESULTS', 'SERVER_IMPAIR', 'NETCAT_IMPAIR', 'MAKELEVEL', 'MAKEFLAGS', 'MFLAGS'):
            self.env.pop(name, None)

    def make(self, compose, *targets):
        """Seconds one make command took; a failure stops the measurement with make's own output."""
        start = time.monotonic()
        done = subprocess.run(['make', *targets, 'COMPOSE=' + compose], cwd=self.folder, env=self.env,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError('make {} (COMPOSE={}) failed:\n{}{}'.format(' '.join(targets), compose, done.stdout, done.stderr))
        return time.monotonic() - start

    def edit(self, path):
        with open(os.path.join(self.folder, path), 'a') as f:
            f.write('# edited by make speed {}\n'.format(time.time()))

    def floor(self):
        """docker run --rm of the client's container on the lab's network: the least a lab could take."""
        server = engine.service_container(self.project, 'server')
        network = engine.network_of(server)
        start = time.monotonic()
        subprocess.run(['docker', 'run', '--rm', '--network', network, '-e', 'SERVER_NAME=server',
                        self.images + '/client'], check=True, capture_output=True)
        return time.monotonic() - start

    def seed_images(self, settings):
        """Warm figures need no cold images: the user's (LAB_IMAGES) are tagged under the copy's names (cheap;
        a program image holds the same Dockerfile's result on the same base, its program being mounted)."""
        for name in ('base', 'server', 'client', 'netcat'):
            image = engine.image(settings.image(name))
            if image is not None:  # else the copy's make lab builds it
                image.tag('{}/{}'.format(self.images, name))

    def remove_images(self):
        for name in ('server', 'client', 'netcat', 'base'):
            try:
                engine.client().images.remove('{}/{}'.format(self.images, name), force=True)
            except engine.errors().ImageNotFound:
                pass

    def close(self):
        for compose in ('v2', 'v1'):
            try:
                self.make(compose, 'down')
                break
            except RuntimeError:
                continue
        self.remove_images()
        shutil.rmtree(self.folder, ignore_errors=True)


def main(settings):
    flags = parse_command_line_arguments(list(settings.speed_args))
    names = {c: composes.choose(c).name for c in flags.composes}
    out = result_path(settings.results, 'speed')
    out.mkdir(parents=True)
    result = {'machine': {**machine(), 'composes': names}, 'runs': {c: [] for c in flags.composes}, 'cold_lab_s': {},
              'warm_test_s': None}
    copy = Copy(settings)
    try:
        copy.seed_images(settings)
        for compose in flags.composes:
            copy.make(compose, 'lab')  # the images, once; then warm
        for i in range(flags.runs):
            for compose in flags.composes:
                print('speed: run {}/{}, COMPOSE={}'.format(i + 1, flags.runs, compose), file=sys.stderr, flush=True)
                figures = {'warm_lab_s': copy.make(compose, 'lab'), 'floor_s': copy.floor(), 'tcp_s': copy.make(compose, 'tcp')}
                copy.edit('client/ClientPython.py')
                figures['edit_client_tcp_s'] = copy.make(compose, 'tcp')
                copy.edit('server/ServerPython.py')
                figures['edit_server_tcp_s'] = copy.make(compose, 'tcp')
                result['runs'][compose].append(figures)
                write_json(out / 'speed.json', result)
        if not flags.no_suite:
            print('speed: warm make test', file=sys.stderr, flush=True)
            result['warm_test_s'] = copy.make(flags.composes[0], 'test')
            write_json(out / 'speed.json', result)
        if not flags.no_cold:
            for compose in flags.composes:
                print('speed: cold make lab, COMPOSE={}'.format(compose), file=sys.stderr, flush=True)
                copy.make(compose, 'down')
                copy.remove_images()
                result['cold_lab_s'][compose] = copy.make(compose, 'lab')
                write_json(out / 'speed.json', result)
    except RuntimeError as error:
        print('speed: {}\nwhat was measured so far is in {}'.format(error, out / 'speed.json'), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('\nspeed: stopped; what was measured so far is in {}'.format(out / 'speed.json'), file=sys.stderr)
        return 130
    finally:
        copy.close()
    print(report(result))
    print('\nResults in {}'.format(out / 'speed.json'))
    return 0


def report(result):
    """docs/performance.md's table: medians in seconds, and as ratios to the floor of the same runs."""
    lines = ['{:<44} {}'.format('what (medians)', '   '.join('{:>16}'.format(c) for c in result['runs']))]
    rows = [('floor: docker run --rm of the client', 'floor_s'), ('make lab, warm', 'warm_lab_s'),
            ('make tcp, warm', 'tcp_s'), ('edit the client, then make tcp', 'edit_client_tcp_s'),
            ('edit the server, then make tcp', 'edit_server_tcp_s')]
    for title, key in rows:
        cells = []
        for runs in result['runs'].values():
            value = statistics.median(r[key] for r in runs)
            floor = statistics.median(r['floor_s'] for r in runs)
            cells.append('{:>6.2f} s ({:.1f}x)'.format(value, value / floor) if key != 'floor_s' else '{:>6.2f} s       '.format(value))
        lines.append('{:<44} {}'.format(title, '   '.join('{:>16}'.format(c) for c in cells)))
    for compose, seconds in result['cold_lab_s'].items():
        lines.append('cold make lab ({}): {:.1f} s'.format(compose, seconds))
    if result['warm_test_s'] is not None:
        lines.append('warm make test: {:.1f} s'.format(result['warm_test_s']))
    info = result['machine']
    lines.append('Machine: {} cores, kernel {}, Docker Engine {}; {}'.format(
        info['cores'], info['kernel'], info['docker_engine'], '; '.join('{}: {}'.format(k, v) for k, v in info['composes'].items())))
    return '\n'.join(lines)
