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
    for name, setting, check in (('stage', 'STAGE', checked.stage),
                                 ('server', 'SERVER', lambda what, text: checked.choice(what, text, checked.SERVERS))):
        if setting in settings.given:
            continue
        try:
            chosen[name] = check("the lab's {} (.lab)".format(name), (state_dir(settings.project) / name).read_text().strip())
        except OSError:
            pass
    return dataclasses.replace(settings, **chosen)


def remember(settings):
    """Keeps this make lab's stage and server for the commands after it."""
    write_atomic(state_dir(settings.project) / 'stage', settings.stage + '\n')
    write_atomic(state_dir(settings.project) / 'server', settings.server + '\n')
