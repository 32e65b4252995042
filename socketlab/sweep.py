"""Removes what one run made (its containers, its networks, its images, its labs' state folders),
whatever its outcome, and nothing else:
another clone's suite, a user's lab or anything else on the engine is never touched."""
import os
import shutil
import uuid

from . import engine
from .paths import STATE

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
    """Removes run's containers, then its networks, then its own images, then its labs' folders in .lab/
    (their certificates, their state); returns how many things it removed."""
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
            except engine.errors().APIError as error:
                if error.status_code != 403:  # 403: a container joined it meanwhile: the next pass takes both
                    raise
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
    for folder in STATE.glob(RUN_PROJECT_PREFIX + run + '-*'):  # the names of this run's own labs only
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _others(run, group=True):
    """The processes still at work for RUN, not this one nor its ancestors (make, which waits for it):
    this process group's (what a signal to the whole group also reached; unless not GROUP), and, in
    sessions of their own, those that carry the run in their environment (the makes the suite starts in
    terminals of their own, which that signal does not reach). A process that has exited (a zombie: our
    own child, not yet waited for, as the stop cut that wait) is done. {pid: whether it is of this
    process group}."""
    def status(pid):
        with open('/proc/{}/stat'.format(pid)) as f:
            fields = f.read().rpartition(')')[2].split()
        return int(fields[1]), int(fields[2]) if fields[0] != 'Z' else None  # parent, group (None: exited)

    def of_run(pid):
        with open('/proc/{}/environ'.format(pid), 'rb') as f:
            values = [entry[len(b'SOCKET_LAB_RUN='):].decode(errors='replace') for entry in f.read().split(b'\0')
                      if entry.startswith(b'SOCKET_LAB_RUN=')]
        return any(value == run or value.startswith(run + '-') for value in values)
    ancestors, pid = set(), os.getpid()
    try:
        while pid > 1:
            ancestors.add(pid)
            pid = status(pid)[0]
    except OSError:
        pass
    group, others = os.getpgrp() if group else None, {}
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) not in ancestors:
            try:
                its_group = status(entry)[1]
                if group is not None and its_group == group:
                    others[int(entry)] = True
                elif its_group is not None and of_run(entry):
                    others[int(entry)] = False
            except (OSError, ValueError):
                continue  # gone meanwhile, or not ours to read
    return others


def sweep_when_done(run):
    """After a run that ended by itself: a process that still carries it (a target a failing test could
    not stop, in a terminal of its own: seen, a hung make loss-table outlived its suite by minutes) is
    killed, then the run's things are swept. The run is over: nothing of it works on."""
    import signal
    for pid in _others(run, group=False):  # not the group's: a tee that make test's output goes to is in it
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # gone meanwhile
    return sweep(run)


def sweep_when_stopped(run, bound=25.0):
    """After a stop (Ctrl-C, or a signal to the whole process group): the run's processes the signal did
    not reach (in terminals of their own) are told to stop too; while they and those it reached end and
    clean up after themselves (they may still be making something), sweeps, until a pass finds nothing
    and none is left (at most BOUND seconds), then once more."""
    import signal
    from .health import NotYet, eventually
    told = set()

    def tell_the_rest():
        """Those not of this group are told once each, as each pass finds them (one that was starting
        during the first pass shows its run only a moment later). Whether any is still at work."""
        others = _others(run)
        for pid in others.keys() - told:
            if not others[pid]:
                told.add(pid)
                try:
                    os.kill(pid, signal.SIGTERM)
                except OSError:
                    pass  # gone meanwhile
        return bool(others)

    def done():
        still_at_work = tell_the_rest()
        return sweep(run) == 0 and not still_at_work
    try:
        eventually(done, timeout=bound, what='the stopped run still has processes')
    except (NotYet, OSError):
        pass
    return sweep(run)
