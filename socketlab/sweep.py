"""Removes what one run made (its containers, its networks), whatever its outcome, and nothing else:
another clone's suite, a user's lab or anything else on the engine is never touched."""
import os
import uuid

from . import engine

# Compose projects a run makes are named this + its id (+ a suffix); their containers carry compose's label.
RUN_PROJECT_PREFIX = 'socket-lab-run-'


def new_run():
    """This process's run id (shared with the processes it starts, e.g. pytest-xdist's workers)."""
    return os.environ.setdefault('SOCKET_LAB_RUN', uuid.uuid4().hex[:8])


def child_run(kind):
    """A run of its own (make exchange, make bench), inside the run that started it if any
    (PARENT-KIND-ID): it sweeps only its own things, and the parent's sweep covers what it left."""
    parent = os.environ.get('SOCKET_LAB_RUN')
    return '{}-{}-{}'.format(parent, kind, uuid.uuid4().hex[:8]) if parent else '{}-{}'.format(kind, uuid.uuid4().hex[:8])


def made_by(labels, run):
    """Whether something with these labels was made by the run (or by a run it started: a bench a test
    runs labels its things RUN-bench-ID)."""
    labels = labels or {}
    if not run:
        return False
    label = labels.get(engine.RUN_LABEL, '')
    return (label == run or label.startswith(run + '-')
            or (labels.get(engine.PROJECT_LABEL, '') + '-').startswith(RUN_PROJECT_PREFIX + run + '-'))


def image_prefix(run):
    """The repository prefix of the images a run builds for itself (make speed's copy, the base image
    built from base/Dockerfile in the suite): RUN_PROJECT_PREFIX + run + '-'."""
    return RUN_PROJECT_PREFIX + run + '-'


def sweep(run):
    """Removes run's containers, then its networks, then its own images; returns how many things it removed."""
    if not run:  # an empty id would match everything that has no run label: the whole engine
        raise ValueError('sweep: no run id')
    client = engine.client()
    removed = 0
    # sparse: the list as it is, without inspecting each (another run may remove its own meanwhile)
    for container in client.containers.list(all=True, sparse=True):
        if made_by(container.attrs.get('Labels'), run):
            try:
                container.remove(force=True)
                removed += 1
            except engine.errors().NotFound:
                pass
            except engine.errors().APIError as error:
                if error.status_code != 409:  # 409: its removal is already under way (make down, a fixture)
                    raise
    for network in client.networks.list():
        if made_by(network.attrs.get('Labels'), run):
            try:
                network.remove()
                removed += 1
            except engine.errors().NotFound:
                pass
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(image_prefix(run)):
                try:
                    client.images.remove(tag)  # by its tag: never another's image, never forced
                    removed += 1
                except engine.errors().NotFound:
                    pass
                except engine.errors().APIError as error:
                    if error.status_code != 409:  # 409: a container of another run still uses it
                        raise
    return removed


def _group_others():
    """The other processes of this process group that are not its ancestors (make, which waits for
    it): what a signal to the whole group also reached, still finishing their own clean-up. A process
    that has exited (a zombie: our own child, not yet waited for, as the stop cut that wait) is done."""
    def status(pid):
        with open('/proc/{}/stat'.format(pid)) as f:
            fields = f.read().rpartition(')')[2].split()
        return int(fields[1]), int(fields[2]) if fields[0] != 'Z' else None  # parent, group (None: exited)
    ancestors, pid = set(), os.getpid()
    try:
        while pid > 1:
            ancestors.add(pid)
            pid = status(pid)[0]
    except OSError:
        pass
    group, others = os.getpgrp(), []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) not in ancestors:
            try:
                if status(entry)[1] == group:
                    others.append(int(entry))
            except OSError:
                continue  # gone meanwhile
    return others


def sweep_when_stopped(run, bound=25.0):
    """After a stop (Ctrl-C, or a signal to the whole process group): the processes the signal also
    reached (tests, a nested make) end and clean up after themselves, while they may still be making
    something; sweeps until they are gone (at most BOUND seconds), then once more."""
    from .health import NotYet, eventually
    try:
        eventually(lambda: (sweep(run), not _group_others())[1], timeout=bound, what='the stopped run still has processes')
    except (NotYet, OSError):
        pass
    return sweep(run)
