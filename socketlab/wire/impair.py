"""Breaks the lab's wire on purpose: loss (iptables' statistic match) and rate (a tbf qdisc) inside the
server's and nc's network namespaces, applied by the compose helpers impair-server / impair-netcat,
which alone hold NET_ADMIN. Delay, jitter, reorder and duplicate (on the container's outgoing packets)
use the kernel's netem where it has one; where not, an NFQUEUE rule hands those packets to
socketlab/wire/nfqueue.py in the helper queue-SERVICE, which holds them in user space. The rule is
fail-open (--queue-bypass): without that program running, packets pass undelayed.

An impairment is written as words, e.g. "loss=30 direction=in mode=nth rate=1mbit on=server", by
`make impair` (LOSS=, DIRECTION=, ...) or declared on a service in compose.yaml (its socket-lab.impair
label, or SERVER_IMPAIR / NETCAT_IMPAIR). Every word is checked here; the helper gets argv lists.

What is wanted lives in .lab/PROJECT/impair.json (make down removes it); without it, each service's
label, applied by make lab to each new container.
"""
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import engine, oneoff
from ..paths import state_dir, write_atomic
from ..errors import SettingError
from . import nfqueue

SERVICES = ('server', 'netcat')
DURATION = r'(?:0|[1-9][0-9]{0,4})(?:\.[0-9]{1,3})?(?:us|ms|s)'  # at most 99999.999 of its unit
QUEUE_CHAIN, QUEUE_NUMBER = 'SOCKET_LAB_QUEUE', '7'
BYPASS_MARK = hex(nfqueue.BYPASS_MARK)  # socketlab/wire/nfqueue.py's duplicates carry it
LOST_MARK = hex(nfqueue.LOST_MARK)  # an outgoing packet to lose: dropped by nfqueue.py, never by iptables (see there)
QUEUED = ('delay', 'jitter', 'reorder', 'duplicate')  # what holds packets: netem, else the user-space queue
CHAINS = {'in': ('SOCKET_LAB_IN', 'INPUT', '-i'), 'out': ('SOCKET_LAB_OUT', 'OUTPUT', '-o')}
CHECKS = {
    'loss': (r'0|[1-9][0-9]?|100', 'give a percentage from 0 to 100'),
    'direction': (r'in|out|both', 'give in, out or both'),
    'mode': (r'random|nth', 'give random or nth'),
    'rate': (r'[1-9][0-9]{0,5}(?:bit|kbit|mbit|gbit)', 'give e.g. 1mbit or 500kbit'),
    'delay': (DURATION, 'give a number and a unit, e.g. 100ms'),
    'jitter': (DURATION, 'give a number and a unit, e.g. 20ms'),
    'reorder': (r'(?:0|[1-9][0-9]?|100)%?', 'give a percentage from 0 to 100'),
    'duplicate': (r'(?:0|[1-9][0-9]?|100)%?', 'give a percentage from 0 to 100'),
    'on': (r'server|netcat|both', 'give server, netcat or both'),
}


@dataclass(frozen=True)
class Impairment:
    loss: int = 0
    direction: str = 'both'
    mode: str = 'random'
    rate: str = ''
    delay: str = ''
    jitter: str = ''
    reorder: str = ''
    duplicate: str = ''
    on: str = 'both'

    @classmethod
    def parse(cls, spec, setting=None):
        """The words of a spec, each checked; SettingError names the first bad one."""
        values = {}
        for word in (spec or '').split():
            key, _, value = word.partition('=')
            if word == 'none':
                continue
            if key not in CHECKS or not _:
                problem = 'unknown setting {!r}: use {}'.format(word, ', '.join(k + '=' for k in CHECKS))
            elif not re.fullmatch(CHECKS[key][0], value):
                problem = 'bad {} {!r}: {}'.format(key, value, CHECKS[key][1])
            else:
                values[key] = int(value) if key == 'loss' else value
                continue
            raise SettingError(('bad {}: '.format(setting) if setting else 'impair: ') + problem)
        for needs in ('jitter', 'reorder'):  # as netem has it: both only shape a delay
            if values.get(needs) and not values.get('delay'):
                raise SettingError(('bad {}: '.format(setting) if setting else 'impair: ') +
                                   '{} needs a delay, e.g. delay=100ms {}={}'.format(needs, needs, values[needs]))
        return cls(**values)

    @property
    def queued(self):
        """Whether it holds packets (netem or the user-space queue), not only drops or paces them."""
        return bool(self.delay or self.reorder or self.duplicate)

    def queued_words(self):
        """What it asks of netem or the queue, in words: ['delay 100ms', 'jitter 20ms', ...]."""
        return ['{} {}'.format(key, getattr(self, key)) for key in QUEUED if getattr(self, key)]

    def needs_queue(self, mechanism):
        """Whether the user-space queue must run: outgoing loss always, delay and the rest without netem."""
        return (self.loss and self.direction in ('out', 'both')) or (self.queued and mechanism == 'nfqueue')

    def queue_arguments(self, mechanism):
        """socketlab/wire/nfqueue.py's argv: queue, delay and jitter in ms, reorder and duplicate in %
        (all 0 where netem does them, or none is asked: the queue then only loses what is marked)."""
        if mechanism != 'nfqueue' or not self.queued:
            return [QUEUE_NUMBER, '0', '0', '0', '0']
        return [QUEUE_NUMBER, milliseconds(self.delay), milliseconds(self.jitter),
                self.reorder.rstrip('%') or '0', self.duplicate.rstrip('%') or '0']

    def services(self):
        return SERVICES if self.on == 'both' else (self.on,)

    def words(self):
        """The spec again, in its canonical words."""
        defaults = Impairment()
        return ' '.join('{}={}'.format(k, getattr(self, k)) for k in CHECKS if getattr(self, k) != getattr(defaults, k)) or 'none'

    def every(self):
        """mode=nth: exactly one packet in this many is dropped."""
        return (100 + self.loss // 2) // self.loss

    def describe(self, service=None):
        """In words, e.g. 'loss 30% both directions on server and netcat'; for one service, what it does there."""
        if service is not None and service not in self.services():
            return 'none'
        parts = []
        if self.loss:
            way = 'both directions' if self.direction == 'both' else self.direction
            parts.append('loss {}% {}'.format(self.loss, way) + (' (exactly 1 packet in {})'.format(self.every()) if self.mode == 'nth' else ''))
        if self.rate:
            parts.append('rate {} out'.format(self.rate))
        parts += self.queued_words()
        if not parts:
            return 'none'
        where = '' if service else ' on ' + ('server and netcat' if self.on == 'both' else self.on)
        return ', '.join(parts) + where

    def commands(self, service, mechanism='netem'):
        """The argv lists that make SERVICE's network what this says (healed first): [argv, must succeed].
        mechanism: 'netem' (tc) or 'nfqueue' (an NFQUEUE rule; the queue program is started apart)."""
        heal = [[['iptables', '-D', hook, flag, 'eth0', '-j', chain], False] for chain, hook, flag in CHAINS.values()]
        heal += [[['iptables', '-D', 'OUTPUT', '-o', 'eth0', '-j', QUEUE_CHAIN], False]]
        heal += [[['iptables', op, chain], False] for chain in (*(c for c, _, _ in CHAINS.values()), QUEUE_CHAIN) for op in ('-F', '-X')]
        heal += [[['tc', 'qdisc', 'del', 'dev', 'eth0', 'root'], False]]
        if service not in self.services():
            return heal
        rules = []
        if self.loss:
            if self.mode == 'nth':
                match = ['--mode', 'nth', '--every', str(self.every()), '--packet', '0']
            else:
                match = ['--mode', 'random', '--probability', '1' if self.loss == 100 else '0.{:02d}'.format(self.loss)]
            for way, (chain, hook, flag) in CHAINS.items():
                if self.direction in ('both', way):
                    lose = ['-j', 'DROP'] if way == 'in' else ['-j', 'MARK', '--set-mark', LOST_MARK]
                    rules += [[['iptables', '-N', chain], True],
                              [['iptables', '-A', chain, '-m', 'statistic', *match, *lose], True],
                              [['iptables', '-A', hook, flag, 'eth0', '-j', chain], True]]
        if self.needs_queue(mechanism):
            rules += [[['iptables', '-N', QUEUE_CHAIN], True],
                      [['iptables', '-A', QUEUE_CHAIN, '-m', 'mark', '--mark', BYPASS_MARK, '-j', 'RETURN'], True],
                      [['iptables', '-A', QUEUE_CHAIN, '-j', 'NFQUEUE', '--queue-num', QUEUE_NUMBER, '--queue-bypass'], True],
                      [['iptables', '-A', 'OUTPUT', '-o', 'eth0', '-j', QUEUE_CHAIN], True]]
        if self.queued and mechanism == 'netem':
            netem = ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem']
            netem += ['delay', self.delay or '0ms'] + ([self.jitter] if self.jitter else [])
            for key in ('reorder', 'duplicate', 'rate'):
                netem += [key, getattr(self, key)] if getattr(self, key) else []
            rules.append([netem, True])
        elif self.rate:
            rules.append([['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', self.rate, 'burst', '32kbit', 'latency', '400ms'], True])
        return heal + rules


NONE = Impairment()
SHOW = [[['iptables', '-L', chain, '-n', '-v', '-x'], False] for chain, _, _ in CHAINS.values()] + [
    [['tc', 'qdisc', 'show', 'dev', 'eth0'], False], [['iptables', '-L', QUEUE_CHAIN, '-n', '-v', '-x'], False]]
NETEM_PROBE = [[['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], True],
               [['tc', 'qdisc', 'del', 'dev', 'lo', 'root'], False]]


def milliseconds(duration):
    """A checked duration (DURATION) in milliseconds, as the queue program's argument: '100ms' -> '100'."""
    if not duration:
        return '0'
    number, unit = re.fullmatch(r'([0-9.]+)(us|ms|s)', duration).groups()
    return '{:g}'.format(float(number) * {'us': 0.001, 'ms': 1, 's': 1000}[unit])


def helper(settings, compose, service, commands, peer=None, labels=None):
    """Runs the commands in SERVICE's network namespace (the impair-SERVICE helper; PEER's, if given);
    their results."""
    peer = peer or engine.service_container(settings.project, service)
    status, output = oneoff.run(settings, compose, 'impair-' + service, peer, json.dumps(commands), capture=True, labels=labels)
    try:
        results = json.loads(output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError('the impairment helper failed: {}'.format(output.strip())) from None
    if status:
        bad = next(r for r in results if r['code'])
        raise RuntimeError('{} failed: {}'.format(' '.join(bad['argv']), bad['out'].strip()))
    return results


def _state_file(settings):
    return state_dir(settings.project) / 'impair.json'


def _state(settings):
    try:
        return json.loads(_state_file(settings).read_text())
    except (OSError, ValueError):
        return {'spec': None, 'applied': {}}


def _save(settings, state):
    write_atomic(_state_file(settings), json.dumps(state))


def wanted(settings, service):
    """The impairment wanted for SERVICE now: make impair's, else its compose label (checked)."""
    spec = _state(settings)['spec']
    if spec is None:
        container = engine.service_container(settings.project, service)
        spec = container.labels.get('socket-lab.impair', '') if container else ''
        return Impairment.parse(spec, setting='socket-lab.impair label of ' + service)
    return Impairment.parse(spec)


def _both(function):
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(function, SERVICES))


def _queues(settings, service):
    return engine.containers(settings.project, 'queue-' + service, all=True, oneoff=True)


def _stop(queue):
    queue.stop(timeout=2)  # it lets what it holds go first
    oneoff.remove(queue)


def _probe(settings, compose, service, peer=None, labels=None):
    """netem where the kernel has it, else the user-space queue (NFQUEUE)."""
    try:
        helper(settings, compose, service, NETEM_PROBE, peer=peer, labels=labels)
        return 'netem'
    except RuntimeError:
        return 'nfqueue'


def _impair(settings, compose, service, impairment, way, peer=None, labels=None):
    """SERVICE's (or PEER's) rules made what IMPAIRMENT says by WAY, and its user-space queue started if
    it needs one (running until make heal or make down, ready once it has bound its NFQUEUE): the queue."""
    helper(settings, compose, service, impairment.commands(service, way), peer=peer, labels=labels)
    if not (impairment.needs_queue(way) and service in impairment.services()):
        return None
    return oneoff.started(settings, compose, 'queue-' + service, peer or engine.service_container(settings.project, service),
                          *impairment.queue_arguments(way), ready=b'queue ', what='the user-space queue did not start',
                          labels=labels)


def delay_beside(settings, compose, peer, delay, labels):
    """make bench: DELAY on the outgoing packets of PEER, one of the bench's own servers, by the lab's
    own mechanism (netem, else the user-space queue), its helpers labelled LABELS (the bench's sweep
    removes them). Returns the mechanism used and a function that undoes it."""
    way = _probe(settings, compose, 'server', peer, labels)
    queue = _impair(settings, compose, 'server', Impairment.parse('delay=' + delay), way, peer, labels)

    def undo():
        if queue is not None:
            _stop(queue)
        helper(settings, compose, 'server', NONE.commands('server'), peer=peer, labels=labels)
    return way, undo


def mechanism(settings, compose, service):
    """The lab's mechanism for delay and the rest (_probe), asked once per lab."""
    way = _state(settings).get('mechanism')
    if way is None:
        way = _probe(settings, compose, service)
        _save(settings, {**_state(settings), 'mechanism': way})
    return way


def _apply_one(settings, compose, service, impairment):
    """SERVICE's network made what IMPAIRMENT says (healed first, its queue program included)."""
    for queue in _queues(settings, service):
        _stop(queue)
    _impair(settings, compose, service, impairment, mechanism(settings, compose, service) if impairment.queued else 'netem')


def _apply(settings, compose, impairment, record):
    def one(service):
        container = engine.service_container(settings.project, service)
        if container is None:
            return
        _apply_one(settings, compose, service, impairment)
        record[service] = container.id
    _both(one)


def sync(settings, compose):
    """Applies what is wanted to the lab's containers that do not have it yet (new ones)."""
    state = _state(settings)

    def one(service):
        container = engine.service_container(settings.project, service)
        if container is None or state['applied'].get(service) == container.id:
            return
        impairment = wanted(settings, service)
        if impairment != NONE:
            _apply_one(settings, compose, service, impairment)
        state['applied'][service] = container.id
    _both(one)
    _save(settings, {**_state(settings), 'applied': state['applied']})


def set_(settings, compose, impairment):
    """make impair: what it asks, applied now (or by the next make lab)."""
    running = [s for s in SERVICES if engine.service_container(settings.project, s)]
    state = {**_state(settings), 'spec': impairment.words(), 'applied': {}}
    try:
        _apply(settings, compose, impairment, state['applied'])
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM half-way: never leave one container impaired and not the other
        heal(settings, compose)
        print('impair: stopped before it was applied everywhere; healed: nothing is impaired', file=sys.stderr)
        raise
    _save(settings, {**state, 'mechanism': _state(settings).get('mechanism')})
    if running:
        return 'Impairment now: {} (make heal undoes it)'.format(impairment.describe())
    return 'Impairment wanted: {} (the lab is not running: make lab applies it)'.format(impairment.describe())


def heal(settings, compose):
    state = {**_state(settings), 'spec': 'none', 'applied': {}}
    _apply(settings, compose, NONE, state['applied'])
    _save(settings, state)
    return 'Impairment now: none'


def wanted_lines(settings):
    return ['{}: {}'.format(s, wanted(settings, s).describe(s)) for s in SERVICES]


def _shown(results):
    """What iptables -L and tc qdisc show say, in a few words."""
    parts = []
    for result, way in zip(results[:2], ('in', 'out')):
        for line in result['out'].splitlines():
            if ('DROP' in line or 'MARK' in line) and 'statistic' in line:
                how = re.search(r'probability ([0-9.]+)', line)
                how = '{:g}%'.format(float(how.group(1)) * 100) if how else '1 packet in ' + re.search(r'every (\d+)', line).group(1)
                parts.append('loss {} {} ({} dropped so far)'.format(way, how, line.split()[0]))
    parts += [line.strip() for line in results[2]['out'].splitlines() if re.search(r'\b(tbf|netem)\b', line)]
    return '; '.join(parts) or 'no impairment'


def _queue_shown(settings, service, results):
    """What the user-space queue does, if SERVICE's packets go through one: its words and counts."""
    if 'NFQUEUE' not in results[3]['out']:
        return []
    queues = [q for q in _queues(settings, service) if q.status == 'running']
    if not queues:
        return ['an NFQUEUE rule without its program: packets pass, neither delayed nor lost (fail-open); make heal clears it']
    impairment = wanted(settings, service)
    if not impairment.queued:
        return []  # outgoing loss only: the line above counts it
    counts = [line for line in queues[0].logs(tail=1).decode(errors='replace').splitlines() if line.startswith('held=')]
    held = counts[-1].split()[0].split('=')[1] if counts else '0'
    return ['{} out by the user-space queue (NFQUEUE: this kernel has no netem), {} packets held so far'.format(
        ', '.join(impairment.queued_words()), held)]


def show(settings, compose):
    """make status: what each container's network does now, and by which mechanism."""
    def one(service):
        if engine.service_container(settings.project, service) is None:
            return '{}: not running'.format(service)
        results = helper(settings, compose, service, SHOW)
        shown = [part for part in [_shown(results)] if part != 'no impairment'] + _queue_shown(settings, service, results)
        return '{}: {}'.format(service, '; '.join(shown) or 'no impairment')
    return _both(one)
