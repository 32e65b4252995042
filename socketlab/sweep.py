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


def made_by(labels, run):
    labels = labels or {}
    return labels.get(engine.RUN_LABEL) == run or labels.get(engine.PROJECT_LABEL, '').startswith(RUN_PROJECT_PREFIX + run)


def sweep(run):
    """Removes run's containers, then its networks; returns how many things it removed."""
    client = engine.client()
    removed = 0
    for container in client.containers.list(all=True):
        if made_by(container.labels, run):
            try:
                container.remove(force=True)
                removed += 1
            except engine.errors().NotFound:
                pass
    for network in client.networks.list():
        if made_by(network.attrs.get('Labels'), run):
            try:
                network.remove()
                removed += 1
            except engine.errors().NotFound:
                pass
    return removed
