"""An impairment's rules as data: the iptables and tc argv lists (each [argv, must it succeed]) that make
a container's network what a socketlab.wire.impair.spec.Impairment says, the queue program's argv, and
the argv that show and probe it. Nothing here runs anything: socketlab.wire.impair.state hands these to
the impair-SERVICE helper; tests read them as tables."""
from .. import nfqueue
from .spec import milliseconds

QUEUE_CHAIN, QUEUE_NUMBER = 'SOCKET_LAB_QUEUE', '7'
BYPASS_MARK = hex(nfqueue.BYPASS_MARK)  # socketlab/wire/nfqueue.py's duplicates carry it
LOST_MARK = hex(nfqueue.LOST_MARK)  # an outgoing packet to lose: dropped by nfqueue.py, never by iptables (see there)
CHAINS = {'in': ('SOCKET_LAB_IN', 'INPUT', '-i'), 'out': ('SOCKET_LAB_OUT', 'OUTPUT', '-o')}
SHOW = [[['iptables', '-L', chain, '-n', '-v', '-x'], False] for chain, _, _ in CHAINS.values()] + [
    [['tc', 'qdisc', 'show', 'dev', 'eth0'], False], [['iptables', '-L', QUEUE_CHAIN, '-n', '-v', '-x'], False]]
NETEM_PROBE = [[['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], True],
               [['tc', 'qdisc', 'del', 'dev', 'lo', 'root'], False]]


def queue_arguments(impairment, mechanism):
    """IMPAIRMENT's queue: socketlab/wire/nfqueue.py's argv: queue, delay and jitter in ms, reorder and duplicate in %
    (all 0 where netem does them, or none is asked: the queue then only loses what is marked)."""
    if mechanism != 'nfqueue' or not impairment.queued:
        return [QUEUE_NUMBER, '0', '0', '0', '0']
    return [QUEUE_NUMBER, milliseconds(impairment.delay), milliseconds(impairment.jitter),
            impairment.reorder.rstrip('%') or '0', impairment.duplicate.rstrip('%') or '0']


def commands(impairment, service, mechanism='netem'):
    """The argv lists that make SERVICE's network what IMPAIRMENT says (healed first): [argv, must succeed].
    mechanism: 'netem' (tc) or 'nfqueue' (an NFQUEUE rule; the queue program is started apart)."""
    heal = [[['iptables', '-D', hook, flag, 'eth0', '-j', chain], False] for chain, hook, flag in CHAINS.values()]
    heal += [[['iptables', '-D', 'OUTPUT', '-o', 'eth0', '-j', QUEUE_CHAIN], False]]
    heal += [[['iptables', op, chain], False] for chain in (*(c for c, _, _ in CHAINS.values()), QUEUE_CHAIN) for op in ('-F', '-X')]
    heal += [[['tc', 'qdisc', 'del', 'dev', 'eth0', 'root'], False]]
    if service not in impairment.services():
        return heal
    rules = []
    if impairment.loss:
        if impairment.mode == 'nth':
            match = ['--mode', 'nth', '--every', str(impairment.every()), '--packet', '0']
        else:
            match = ['--mode', 'random', '--probability', '1' if impairment.loss == 100 else '0.{:02d}'.format(impairment.loss)]
        for way, (chain, hook, flag) in CHAINS.items():
            if impairment.direction in ('both', way):
                lose = ['-j', 'DROP'] if way == 'in' else ['-j', 'MARK', '--set-mark', LOST_MARK]
                rules += [[['iptables', '-N', chain], True],
                          [['iptables', '-A', chain, '-m', 'statistic', *match, *lose], True],
                          [['iptables', '-A', hook, flag, 'eth0', '-j', chain], True]]
    if impairment.needs_queue(mechanism):
        rules += [[['iptables', '-N', QUEUE_CHAIN], True],
                  [['iptables', '-A', QUEUE_CHAIN, '-m', 'mark', '--mark', BYPASS_MARK, '-j', 'RETURN'], True],
                  [['iptables', '-A', QUEUE_CHAIN, '-j', 'NFQUEUE', '--queue-num', QUEUE_NUMBER, '--queue-bypass'], True],
                  [['iptables', '-A', 'OUTPUT', '-o', 'eth0', '-j', QUEUE_CHAIN], True]]
    if impairment.queued and mechanism == 'netem':
        netem = ['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem']
        netem += ['delay', impairment.delay or '0ms'] + ([impairment.jitter] if impairment.jitter else [])
        for key in ('reorder', 'duplicate', 'rate'):
            netem += [key, getattr(impairment, key)] if getattr(impairment, key) else []
        rules.append([netem, True])
    elif impairment.rate:
        rules.append([['tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', impairment.rate, 'burst', '32kbit', 'latency', '400ms'], True])
    return heal + rules
