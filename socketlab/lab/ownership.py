"""Whose lab a name is: each checkout (clone) of the project has its lab, and another clone's lab of
the same name on this engine is refused, never touched (the engine's labels are the record)."""
import dataclasses
import hashlib
import os

from .. import api, engine
from .. import settings as checked
from ..paths import ROOT


WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'  # set by Compose v2 and 1.29 alike


def _folders(project):
    """The folders the project's containers were started from (compose labels each with its own)."""
    listed = api.containers({engine.PROJECT_LABEL: project}, all=True)
    return {(c.get('Labels') or {}).get(WORKING_DIR_LABEL) for c in listed} - {None}


def _other_checkout(project):
    """The folder of another checkout whose lab PROJECT is, if any."""
    return next((folder for folder in sorted(_folders(project)) if os.path.realpath(folder) != str(ROOT)), None)


def owned_here(settings):
    """Refuses a project another checkout's lab runs (a LAB_PROJECT given by name)."""
    folder = _other_checkout(settings.project)
    if folder is not None:
        raise checked.SettingError(
            "LAB_PROJECT {0} is the lab of another checkout ({1}): nothing changed; give this one a name of "
            "its own, e.g. LAB_PROJECT={0}-2, or run make there".format(settings.project, folder))


def own_name(default):
    """This checkout's own lab name, for when the default one is another clone's: DEFAULT-HASH."""
    return '{}-{}'.format(default, hashlib.sha256(str(ROOT).encode()).hexdigest()[:6])


def own_project(settings, named):
    """The lab this checkout's make means. NAMED (LAB_PROJECT given): that one, if it is not another
    checkout's. Else the default, socket-lab, unless another clone on this engine runs it (or this
    checkout's own name already runs): then this checkout's own name, socket-lab-HASH (make lab says so).
    Nothing is written: the engine's labels are the record."""
    if named:
        owned_here(settings)
        return settings
    own = own_name(settings.project)
    if _folders(own) or _other_checkout(settings.project) is not None:
        return dataclasses.replace(settings, project=checked.project("this checkout's lab", own))
    return settings
