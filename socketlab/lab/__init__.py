"""The lab itself: bring it up (server and nc, healthy), keep the server running what the learner
wrote, say what runs, show the logs, take it down. Its rooms: memory (the stage and server chosen),
ownership (which checkout's lab a name is), server (the server's lifecycle), commands (make lab,
status, logs, down, clean)."""
from .memory import remember, remembered  # noqa: F401
from .ownership import own_name, own_project, owned_here  # noqa: F401
from .server import LOOPBACK, last_start_logs, served_on_loopback, server, server_file  # noqa: F401

COMMANDS = ('clean', 'down', 'lines', 'logs', 'status', 'up')


def __getattr__(name):
    """make lab's own commands, imported by the targets that run them (with nc and the wire's rooms: a
    make tcp need not import them on the learner's edit-run loop)."""
    if name in COMMANDS:
        from . import commands
        return getattr(commands, name)
    raise AttributeError('module {!r} has no attribute {!r}'.format(__name__, name))
