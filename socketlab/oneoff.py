"""One-off containers of a compose service (`compose run`): a client's exchange, a helper's commands.

Each gets a name of its own; its exit status is read from the engine, since Compose v2 with Docker
Engine 20.10 reports 0 for every run (seen with v2.29 to v2.40 here); it is removed afterwards,
whatever happened (a failure, Ctrl-C).
"""
import subprocess
import sys
import uuid

from . import engine

# docker-compose 1.29 (v1) says "Creating socket-lab_client_run ... done" on stderr for every run.
V1_CHATTER = ('Creating ', 'Starting ')


def name(settings, service):
    return '{}-{}-run-{}'.format(settings.project, service, uuid.uuid4().hex[:8])


def run(settings, compose, service, *args, entrypoint=None, capture=False, tty=None):
    """compose run SERVICE ARGS: (exit status, stdout if capture). Output passes through otherwise."""
    container = name(settings, service)
    options = ['run', '--no-deps', '--name', container]
    options += ['--entrypoint', entrypoint] if entrypoint else []
    options += ['-T'] if capture or tty is False else []
    argv = compose.command(settings, *options, service, *args)
    env = compose.environment(settings)
    try:
        if capture:
            done = subprocess.run(argv, env=env, capture_output=True, text=True)
            output = done.stdout
        elif compose.v1:
            process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
            for line in process.stderr:
                if not line.startswith(V1_CHATTER) and not line.strip().isdigit():
                    sys.stderr.write(line)
            process.wait()
            output = None
        else:
            subprocess.run(argv, env=env)
            output = None
        return _exit_status(container), output
    finally:
        remove(container)


def _exit_status(container):
    try:
        state = engine.client().containers.get(container).attrs['State']
    except engine.errors().NotFound:
        return 1  # compose could not create it: it said why
    return state['ExitCode'] if state['Status'] == 'exited' else 1


def remove(container):
    try:
        engine.client().containers.get(container).remove(force=True)
    except engine.errors().NotFound:
        pass
