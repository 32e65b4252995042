"""An impairment applied: run by the compose helpers impair-SERVICE (NET_ADMIN, in the service's network
namespace) and, where the kernel has no netem, the user-space queue queue-SERVICE; what is wanted kept
in .lab/PROJECT/impair.json (make down removes it), else each service's compose label, applied by make
lab to each new container."""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from ... import engine, oneoff
from ...paths import state_dir, write_atomic
from . import rules
from .spec import NONE, SERVICES, Impairment


def helper(target, service, commands, peer=None, labels=None):
    """Runs the commands in SERVICE's network namespace (the impair-SERVICE helper; PEER's, if given);
    their results."""
    settings = target.settings
    peer = peer or engine.service_container(settings.project, service)
    status, output = oneoff.run(target, 'impair-' + service, peer, json.dumps(commands), capture=True, labels=labels)
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


def _probe(target, service, peer=None, labels=None):
    """netem where the kernel has it, else the user-space queue (NFQUEUE)."""
    try:
        helper(target, service, rules.NETEM_PROBE, peer=peer, labels=labels)
        return 'netem'
    except RuntimeError:
        return 'nfqueue'


def _impair(target, service, impairment, way, peer=None, labels=None):
    """SERVICE's (or PEER's) rules made what IMPAIRMENT says by WAY, and its user-space queue started if
    it needs one (running until make heal or make down, ready once it has bound its NFQUEUE): the queue."""
    settings = target.settings
    helper(target, service, rules.commands(impairment, service, way), peer=peer, labels=labels)
    if not (impairment.needs_queue(way) and service in impairment.services()):
        return None
    return oneoff.started(target, 'queue-' + service, peer or engine.service_container(settings.project, service),
                          *rules.queue_arguments(impairment, way), ready=b'queue ', what='the user-space queue did not start',
                          labels=labels)


def delay_beside(target, peer, delay, labels):
    """make bench: DELAY on the outgoing packets of PEER, one of the bench's own servers, by the lab's
    own mechanism (netem, else the user-space queue), its helpers labelled LABELS (the bench's sweep
    removes them). Returns the mechanism used and a function that undoes it."""
    way = _probe(target, 'server', peer, labels)
    queue = _impair(target, 'server', Impairment.parse('delay=' + delay), way, peer, labels)

    def undo():
        if queue is not None:
            _stop(queue)
        helper(target, 'server', rules.commands(NONE, 'server'), peer=peer, labels=labels)
    return way, undo


def mechanism(target, service):
    """The lab's mechanism for delay and the rest (_probe), asked once per lab."""
    settings = target.settings
    way = _state(settings).get('mechanism')
    if way is None:
        way = _probe(target, service)
        _save(settings, {**_state(settings), 'mechanism': way})
    return way


def _apply_one(target, service, impairment):
    """SERVICE's network made what IMPAIRMENT says (healed first, its queue program included)."""
    settings = target.settings
    for queue in _queues(settings, service):
        _stop(queue)
    _impair(target, service, impairment, mechanism(target, service) if impairment.queued else 'netem')


def _apply(target, impairment, record):
    settings = target.settings
    def one(service):
        container = engine.service_container(settings.project, service)
        if container is None:
            return
        _apply_one(target, service, impairment)
        record[service] = container.id
    _both(one)


def sync(target):
    """Applies what is wanted to the lab's containers that do not have it yet (new ones)."""
    settings = target.settings
    state = _state(settings)

    def one(service):
        container = engine.service_container(settings.project, service)
        if container is None or state['applied'].get(service) == container.id:
            return
        impairment = wanted(settings, service)
        if impairment != NONE:
            _apply_one(target, service, impairment)
        state['applied'][service] = container.id
    _both(one)
    _save(settings, {**_state(settings), 'applied': state['applied']})


def set_(target, impairment):
    """make impair: what it asks, applied now (or by the next make lab)."""
    settings = target.settings
    running = [s for s in SERVICES if engine.service_container(settings.project, s)]
    state = {**_state(settings), 'spec': impairment.words(), 'applied': {}}
    try:
        _apply(target, impairment, state['applied'])
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM half-way: never leave one container impaired and not the other
        heal(target)
        print('impair: stopped before it was applied everywhere; healed: nothing is impaired', file=sys.stderr)
        raise
    _save(settings, {**state, 'mechanism': _state(settings).get('mechanism')})
    if running:
        return 'Impairment now: {} (make heal undoes it)'.format(impairment.describe())
    return 'Impairment wanted: {} (the lab is not running: make lab applies it)'.format(impairment.describe())


def heal(target):
    settings = target.settings
    state = {**_state(settings), 'spec': 'none', 'applied': {}}
    _apply(target, NONE, state['applied'])
    _save(settings, state)
    return 'Impairment now: none'


def wanted_lines(settings):
    return ['{}: {}'.format(s, wanted(settings, s).describe(s)) for s in SERVICES]
