"""Breaks the lab's wire on purpose: loss (iptables' statistic match) and rate (a tbf qdisc) inside the
server's and nc's network namespaces, applied by the compose helpers impair-server / impair-netcat,
which alone hold NET_ADMIN. Delay, reorder and duplicate need the kernel's netem; without it, one
line says so and nothing changes.

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
from ..settings import SettingError

SERVICES = ('server', 'netcat')
CHAINS = {'in': ('SOCKET_LAB_IN', 'INPUT', '-i'), 'out': ('SOCKET_LAB_OUT', 'OUTPUT', '-o')}
CHECKS = {
    'loss': (r'0|[1-9][0-9]?|100', 'give a percentage from 0 to 100'),
    'direction': (r'in|out|both', 'give in, out or both'),
    'mode': (r'random|nth', 'give random or nth'),
    'rate': (r'[1-9][0-9]{0,5}(?:bit|kbit|mbit|gbit)', 'give e.g. 1mbit or 500kbit'),
    'delay': (r'(?:0|[1-9][0-9]{0,4})(?:\.[0-9]{1,3})?(?:us|ms|s)', 'give a number and a unit, e.g. 100ms'),
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
        return cls(**values)

    @property
    def netem(self):
        return bool(self.delay or self.reorder or self.duplicate)

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
        parts += ['{} {}'.format(k, getattr(self, k)) for k in ('delay', 'reorder', 'duplicate') if getattr(self, k)]
        if not parts:
            return 'none'
        where = '' if service else ' on ' + ('server and netcat' if self.on == 'both' else self.on)
        return ', '.join(parts) + where

    def commands(self, service):
        """The argv lists that make SERVICE's network what this says (healed first): [argv, must succeed]."""
        heal = [[['iptables', '-D', hook, flag, 'eth0', '-j', chain], False] for chain, hook, flag in CHAINS.values()]
        heal += [[['iptables', op, chain], False] for chain, _, _ in CHAINS.values() for op in ('-F', '-X')]
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
                    rules += [[['iptables', '-N', chain], True],
                              [['iptables', '-A', chain, '-m', 'statistic', *match, '-j', 'DROP'], True],
                              [['iptables', '-A', hook, flag, 'eth0', '-j', chain], True]]
        if self.netem:
            netem = ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem']
            for key in ('delay', 'reorder', 'duplicate', 'rate'):
                netem += [key, getattr(self, key)] if getattr(self, key) else []
            rules.append([netem, True])
        elif self.rate:
            rules.append([['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', self.rate, 'burst', '32kbit', 'latency', '400ms'], True])
        return heal + rules


NONE = Impairment()
SHOW = [[['iptables', '-L', chain, '-n', '-v', '-x'], False] for chain, _, _ in CHAINS.values()] + [
    [['tc', 'qdisc', 'show', 'dev', 'eth0'], False]]
NETEM_PROBE = [[['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], True],
               [['tc', 'qdisc', 'del', 'dev', 'lo', 'root'], False]]


def helper(settings, compose, service, commands):
    """Runs the commands in SERVICE's network namespace (the impair-SERVICE helper); their results."""
    peer = engine.service_container(settings.project, service)
    status, output = oneoff.run(settings, compose, 'impair-' + service, peer, json.dumps(commands), capture=True)
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


def _apply(settings, compose, impairment, record):
    def one(service):
        container = engine.service_container(settings.project, service)
        if container is None:
            return
        helper(settings, compose, service, impairment.commands(service))
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
            helper(settings, compose, service, impairment.commands(service))
        state['applied'][service] = container.id
    _both(one)
    _save(settings, state)


def set_(settings, compose, impairment):
    """make impair: what it asks, applied now (or by the next make lab)."""
    running = [s for s in SERVICES if engine.service_container(settings.project, s)]
    if impairment.netem:
        if not running:
            raise SettingError('impair: the lab is not running: make lab')
        try:
            helper(settings, compose, running[0], NETEM_PROBE)
        except RuntimeError:
            raise SettingError('impair: this kernel has no netem (sch_netem): delay, reorder and duplicate '
                               'cannot be applied; nothing changed') from None
    state = {'spec': impairment.words(), 'applied': {}}
    try:
        _apply(settings, compose, impairment, state['applied'])
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM half-way: never leave one container impaired and not the other
        heal(settings, compose)
        print('impair: stopped before it was applied everywhere; healed: nothing is impaired', file=sys.stderr)
        raise
    _save(settings, state)
    if running:
        return 'Impairment now: {} (make heal undoes it)'.format(impairment.describe())
    return 'Impairment wanted: {} (the lab is not running: make lab applies it)'.format(impairment.describe())


def heal(settings, compose):
    state = {'spec': 'none', 'applied': {}}
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
            if 'DROP' in line and 'statistic' in line:
                how = re.search(r'probability ([0-9.]+)', line)
                how = '{:g}%'.format(float(how.group(1)) * 100) if how else '1 packet in ' + re.search(r'every (\d+)', line).group(1)
                parts.append('loss {} {} ({} dropped so far)'.format(way, how, line.split()[0]))
    parts += [line.strip() for line in results[2]['out'].splitlines() if re.search(r'\b(tbf|netem)\b', line)]
    return '; '.join(parts) or 'no impairment'


def show(settings, compose):
    """make status: what each container's network does now."""
    def one(service):
        if engine.service_container(settings.project, service) is None:
            return '{}: not running'.format(service)
        return '{}: {}'.format(service, _shown(helper(settings, compose, service, SHOW)))
    return _both(one)
