"""What the lab remembers of its choices: the stage `make lab STAGE=...` and the server `make lab
SERVER=...` picked, in .lab/PROJECT/ (make down forgets them)."""
import dataclasses

from .. import settings as checked
from ..paths import state_dir, write_atomic


def remembered(settings):
    """The settings with the stage `make lab STAGE=...` and the server `make lab SERVER=...` chose for
    this lab, unless given now: a learner picks them once, then runs make server-nc, make tcp, make
    clients against it."""
    chosen = {}
    for name, setting, allowed in (('stage', 'STAGE', checked.STAGES), ('server', 'SERVER', checked.SERVERS)):
        if setting in settings.given:
            continue
        try:
            chosen[name] = checked.choice("the lab's {} (.lab)".format(name), (state_dir(settings.project) / name).read_text().strip(), allowed)
        except OSError:
            pass
    return dataclasses.replace(settings, **chosen)


def remember(settings):
    """Keeps this make lab's stage and server for the commands after it."""
    write_atomic(state_dir(settings.project) / 'stage', settings.stage + '\n')
    write_atomic(state_dir(settings.project) / 'server', settings.server + '\n')
