"""python3 -m socketlab TARGET: what each make target runs (the Makefile is the table of them).

Make's variables reach this process as environment variables; socketlab.settings checks every one
before anything is started, built, written or removed. A bad value, a missing engine or a failed step
ends with one line on stderr and a non-zero exit.
"""
import _imp
import argparse
import faulthandler
import os
import signal
import subprocess
import sys
import threading

from . import settings as checked
from .errors import LabError
from .settings import SettingError


_TARGET = [None]  # the target this command runs (main sets it): the variables it alone reads are checked


def _setup(args, own=True):
    """The lab this command acts on (socketlab.target): the checked settings and the compose to use; with
    own, the lab of LAB_PROJECT must be this checkout's (or not running): another clone's lab of the same
    name is refused, never touched."""
    from .compose import choose
    from .lab import own_project, remembered
    from .target import Target
    settings = checked.Settings.from_environment(target=_TARGET[0])
    if own:
        settings = own_project(settings, named='LAB_PROJECT' in settings.given)
    return Target(remembered(settings), choose(settings.compose))


def help_line(_):
    """make help's last line: which compose the lab would use here."""
    try:
        print('Compose: {} (COMPOSE=auto|v2|v1 chooses)'.format(_setup(None, own=False).compose.name))
    except SettingError as error:
        print('Compose: none usable here: {}'.format(error))
    return 0


def lab(_):
    from . import lab
    lab.up(_setup(None))
    return 0


def images(_):
    from . import images
    images.ensure(_setup(None, own=False).settings)
    return 0


def base(_):
    from . import images
    images.base(_setup(None, own=False).settings, force=True)
    return 0


def base_proof(_):
    from . import images
    print('\n'.join(images.prove_dockerfile(_setup(None, own=False).settings)))
    return 0


def start(_):
    from . import learner
    print('\n'.join(learner.start()))
    return 0


def tcp(_):
    from . import client
    return client.tcp(_setup(None))


def capture(_):
    from . import client
    return client.tcp(_setup(None).with_settings(capture=True))


def udp(_):
    from . import client
    return client.udp(_setup(None))


def tls(_):
    from . import client
    return client.tls(_setup(None))


def upload(_):
    from . import client
    return client.upload(_setup(None))


def query(_):
    from . import client
    return client.query(_setup(None))


def menu(_):
    from . import client
    return client.menu(_setup(None))


def tcp_nc(_):
    from . import client
    return client.tcp_nc(_setup(None))


def server_nc(_):
    from . import client
    return client.server_nc(_setup(None))


def clients(_):
    from . import client
    return client.clients(_setup(None))


def nc(_):
    from . import netcat
    return netcat.attach(_setup(None).settings)


def status(_):
    from . import lab
    lab.status(_setup(None))
    return 0


def logs(_):
    from . import lab
    lab.logs(_setup(None).settings)
    return 0


def down(_):
    from . import lab
    lab.down(_setup(None))
    return 0


def clean(_):
    from . import lab
    lab.clean(_setup(None))
    return 0


def impair(_):
    from .wire import impair
    target = _setup(None)
    settings = target.settings
    if not any(word.split('=')[0] in ('loss', 'rate', *impair.QUEUED) for word in settings.impairment.split()):
        raise SettingError('make impair: say what, e.g. make impair LOSS=30, DELAY=100ms or RATE=1mbit')
    print(impair.set_(target, impair.Impairment.parse(settings.impairment)))
    return 0


def heal(_):
    from .wire import impair
    print(impair.heal(_setup(None)))
    return 0


def exchange(_):
    from . import exchanges, sweep
    target = _setup(None, own=False)
    name = target.settings.exchange
    run = sweep.child_run('exchange')
    try:
        return exchanges.replay(target, name, run)
    finally:
        if name:
            sweep.sweep(run)


def _counted(junit):
    """(passed, failed, skipped) from a JUnit XML file pytest wrote (nothing: no test ran)."""
    import xml.etree.ElementTree as ElementTree
    try:
        suites = ElementTree.parse(junit).getroot()
    except (OSError, ElementTree.ParseError):
        return 0, 0, 0
    passed = failed = skipped = 0
    for suite in suites.iter('testsuite'):
        tests, errors, failures, skips = (int(suite.get(key, 0)) for key in ('tests', 'errors', 'failures', 'skipped'))
        passed += tests - errors - failures - skips
        failed += errors + failures
        skipped += skips
    return passed, failed, skipped


def check(_):
    from . import check
    return check.main(_setup(None, own=False))


def grade(_):
    from . import grade
    return grade.main(_setup(None, own=False))


def gradescope(_):
    from . import gradescope
    return gradescope.make_zip(_setup(None, own=False).settings)


# make test's phases: the suite on pytest-xdist's workers, then the measurement targets' tests (marked
# `measure`: bench, loss table, random loss, soak, speed, and stopping them), their groups side by
# side on at most MEASURE_WORKERS workers: they assert no time, but the rest of the suite's load beside
# them made them several times slower (a tiny make bench took 200 s instead of 30 with 8 workers).
PHASES = ('not measure', 'measure')
MEASURE_WORKERS = 4


def test(_):
    """make test: the suite in its two phases (PHASES), then a sweep of what this run made."""
    import tempfile
    from . import browser, images, sweep
    settings = _setup(None, own=False).settings
    images.ensure(settings, *images.PROGRAMS, 'server-c')  # and lesson 9's, which the suite plays too
    browser.ensure()
    # A run of its own, inside the suite's when the suite runs make test: its sweep is its own only.
    run = sweep.child_run('test') if os.environ.get('SOCKET_LAB_RUN') else sweep.new_run()
    env = {**os.environ, 'SOCKET_LAB_RUN': run}
    workers, extra = str(settings.test_workers), settings.pytest_args
    totals, statuses, stopped = [0, 0, 0], [], False
    try:
        with tempfile.TemporaryDirectory(prefix='socket-lab-test-') as folder:
            for number, marks in enumerate(PHASES):
                junit = os.path.join(folder, 'phase-{}.xml'.format(number))
                phase_workers = workers if number == 0 else str(min(int(workers), MEASURE_WORKERS))
                statuses.append(subprocess.run([sys.executable, '-m', 'pytest', '-n', phase_workers, '-m', marks,
                                                '--junitxml', junit, *extra], env=env).returncode)
                totals = [a + b for a, b in zip(totals, _counted(junit))]
    except KeyboardInterrupt:
        stopped = True
        return 130
    finally:  # after a stop, what the signal also reached finishes first (sweep.sweep_when_stopped)
        (sweep.sweep_when_stopped if stopped else sweep.sweep_when_done)(run)
    print('suite: {} passed, {} failed, {} skipped'.format(*totals))  # both phases, as one closing line
    if all(status == 5 for status in statuses):
        return 5  # pytest's own "no tests ran"
    return next((status for status in statuses if status not in (0, 5)), 0)


def bench(_):
    from .measure import bench
    return bench.main(_setup(None, own=False))


def speed(_):
    from .measure import speed
    return speed.main(_setup(None, own=False).settings)


def soak(_):
    from .measure import soak
    return soak.main(_setup(None))


def loss_table(_):
    from .measure import loss_table
    return loss_table.main(_setup(None))


# A target's clean-up after a stop (a server started again, a heal, a copy removed) takes seconds; on a
# machine loaded far past its cores it took past 90 s, and a bound that short cut it half-way (an
# impairment or a copy's containers left). So: every STOP_SAYS seconds it says where each of its threads
# is, on stderr (never silent), and only past STOP_BOUND, a hang, it ends: a stop always ends.
STOP_SAYS = 60
STOP_BOUND = 300


def _give_up():
    try:  # said where it can be (a closed terminal takes nothing: seen, the write's error kept the process alive)
        faulthandler.cancel_dump_traceback_later()  # its dumps, written piecemeal, never land inside this one
        sys.stderr.write('socket-lab: the clean-up after the stop passed {} s; where each thread was:\n'.format(STOP_BOUND))
        sys.stderr.flush()
        faulthandler.dump_traceback(all_threads=True)
    finally:
        os._exit(1)


IMPORT_LOCK_WAIT = 0.01


def _unsafe(frame):
    """Whether a KeyboardInterrupt raised at FRAME, where the signal's handler runs, would break what
    other threads share: inside importlib (its module locks and books), or as an __exit__ begins (the
    release its with statement promised would be skipped: seen, the docker SDK's connection pool's lock
    held for good, a queue's Condition, and a stopped make loss-table's heal waited on it for ever)."""
    if frame is not None and frame.f_code.co_name == '__exit__':
        return True
    while frame is not None:
        if frame.f_code.co_filename.startswith('<frozen importlib'):
            return True
        frame = frame.f_back
    return False


def _stopped(number, frame):
    """SIGTERM or SIGHUP (a closed terminal, a CI job stopped) stop a target as Ctrl-C does, through
    the same clean-up; while it runs, a second signal is ignored, so the clean-up is never cut short,
    and it is bounded (STOP_SAYS, STOP_BOUND). A signal that comes while Python's import lock is held,
    or where a KeyboardInterrupt would break what the clean-up's threads share (_unsafe: inside
    importlib, or as an __exit__ begins), is taken again in a moment (IMPORT_LOCK_WAIT). Raised there,
    the KeyboardInterrupt kept a lock held for good, and every thread that wanted it waited (seen: a
    make loss-table stopped, whose healing threads each imported, or asked the Engine through the pool
    the main thread had been using), or broke importlib's own books (seen: make impair stopped, a
    KeyError from its module lock, the impairment left). The handler itself imports nothing, so a second
    signal inside it is never inside an import of its own."""
    if _imp.lock_held() or _unsafe(frame):
        threading.Timer(IMPORT_LOCK_WAIT, os.kill, (os.getpid(), number)).start()
        return
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)
    faulthandler.dump_traceback_later(STOP_SAYS, repeat=True)
    bound = threading.Timer(STOP_BOUND, _give_up)
    bound.daemon = True
    bound.start()
    raise KeyboardInterrupt


def _engine_errors():
    """What the Engine's refusals are raised as: socketlab.api's and the docker SDK's, of those imported (an
    except clause asks this only when something was raised; a make tcp imports no docker SDK)."""
    api, sdk = sys.modules.get('socketlab.api'), sys.modules.get('docker.errors')
    return tuple(error for error in (api and api.ApiError, sdk and sdk.DockerException) if error)


TARGETS = {name.replace('_', '-'): function for name, function in list(globals().items())
           if callable(function) and function.__module__ == __name__ and name not in ('main',) and not name.startswith('_')}


def main(argv):
    parser = argparse.ArgumentParser(prog='python3 -m socketlab', description=__doc__.split('\n\n')[0])
    parser.add_argument('target', choices=sorted(TARGETS))
    args = parser.parse_args(argv)
    _TARGET[0] = args.target
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _stopped)
    from . import engine, health
    try:
        return TARGETS[args.target](args) or 0
    except LabError as error:  # the one way to fail (socketlab.errors): its lines, its exit code
        print(error, file=sys.stderr)
        return error.code
    except (engine.EngineMissing, health.NotYet, RuntimeError) as error:
        print(error, file=sys.stderr)
        return 1
    except _engine_errors() as error:
        print('docker: {}'.format(error), file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        return error.returncode or 1  # compose said why, above
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. make logs | head: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # a fault of the lab's own: one line here, the whole story in a file
        import tempfile
        import traceback
        with tempfile.NamedTemporaryFile('w', prefix='socket-lab-error-', suffix='.txt', delete=False) as f:
            traceback.print_exc(file=f)
        print('socket-lab: {} failed: {}: {} (the traceback is in {})'.format(
            args.target, type(error).__name__, error, f.name), file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
