"""make status's impairment lines: what each container's network does now (iptables' counters, tc's
qdiscs, the user-space queue's own count), read back from the helper, in a few words."""
import re

from ... import engine
from . import rules
from .state import _both, _queues, helper, wanted


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


def show(target):
    """make status: what each container's network does now, and by which mechanism."""
    settings = target.settings
    def one(service):
        if engine.service_container(settings.project, service) is None:
            return '{}: not running'.format(service)
        results = helper(target, service, rules.SHOW)
        shown = [part for part in [_shown(results)] if part != 'no impairment'] + _queue_shown(settings, service, results)
        return '{}: {}'.format(service, '; '.join(shown) or 'no impairment')
    return _both(one)
