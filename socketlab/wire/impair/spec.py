"""An impairment as words, each checked, with no Docker and no rule in sight: "loss=30 direction=in
mode=nth rate=1mbit on=server", as `make impair` (LOSS=, DIRECTION=, ...) and compose.yaml's
socket-lab.impair labels (SERVER_IMPAIR, NETCAT_IMPAIR) give it. socketlab.wire.impair.rules turns one
into iptables/tc argv; .state applies it."""
import re
from dataclasses import dataclass

from ...errors import SettingError

SERVICES = ('server', 'netcat')
DURATION = r'(?:0|[1-9][0-9]{0,4})(?:\.[0-9]{1,3})?(?:us|ms|s)'  # at most 99999.999 of its unit
QUEUED = ('delay', 'jitter', 'reorder', 'duplicate')  # what holds packets: netem, else the user-space queue
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


NONE = Impairment()


def milliseconds(duration):
    """A checked duration (DURATION) in milliseconds, as the queue program's argument: '100ms' -> '100'."""
    if not duration:
        return '0'
    number, unit = re.fullmatch(r'([0-9.]+)(us|ms|s)', duration).groups()
    return '{:g}'.format(float(number) * {'us': 0.001, 'ms': 1, 's': 1000}[unit])
