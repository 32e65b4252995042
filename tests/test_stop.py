"""A stop always ends: after Ctrl-C or a signal to the whole process group, a target's clean-up says
where each thread is every STOP_SAYS seconds (never silent) and is bounded (socketlab.__main__.STOP_BOUND);
one that hangs past it says where each thread was, and exits."""
import signal
import subprocess
import sys

from socketlab.paths import ROOT

# A target whose clean-up never ends (its finally waits forever), stopped as a CI job is.
HANGING_CLEAN_UP = '''
import signal, threading
from socketlab import __main__ as main
main.STOP_SAYS, main.STOP_BOUND = 0.001, 1
signal.signal(signal.SIGTERM, main._stopped)
try:
    print('running', flush=True)
    threading.Event().wait()
finally:
    threading.Event().wait()  # the clean-up that hangs
'''


def test_a_clean_up_that_hangs_after_a_stop_says_where_and_ends():
    """Six at once: with dumps a millisecond apart, one landed inside the last word in about one run of
    four before that word was written whole (seen in CI with dumps a second apart, between its line and
    its newline)."""
    programs = [subprocess.Popen([sys.executable, '-c', HANGING_CLEAN_UP], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(6)]
    try:
        for program in programs:
            assert program.stdout.readline() == 'running\n'
            program.send_signal(signal.SIGTERM)
        ended = [program.communicate(timeout=120) for program in programs]  # a hang guard far past the 1 s bound
    finally:
        for program in programs:
            program.kill()
    for program, (_, stderr) in zip(programs, ended):
        assert program.returncode == 1
        said, gave_up = stderr.split('socket-lab: the clean-up after the stop passed 1 s; where each thread was:\n')
        assert said.count('Timeout (0:00:00.001000)!') >= 2 and 'line 10 in <module>' in said, stderr[-2000:]
        # the last word is whole, and no dump of the every-STOP_SAYS kind comes after it
        assert 'line 10 in <module>' in gave_up and 'Timeout' not in gave_up, stderr[-2000:]


# A stop that comes while another thread holds Python's import lock (as importlib's main-thread steps do).
STOP_WHILE_IMPORTING = '''
import _imp, os, signal, threading
from socketlab import __main__ as main
signal.signal(signal.SIGTERM, main._stopped)
held, release = threading.Event(), threading.Event()

def hold():
    _imp.acquire_lock()
    held.set()
    release.wait()
    _imp.release_lock()
threading.Thread(target=hold, daemon=True).start()
held.wait()
try:
    os.kill(os.getpid(), signal.SIGTERM)  # its handler runs before the next line
    print('taken later', flush=True)
    release.set()
    threading.Event().wait(timeout=60)
    print('never stopped', flush=True)
except KeyboardInterrupt:
    print('stopped', _imp.lock_held(), flush=True)
'''


def test_a_stop_while_the_import_lock_is_held_is_taken_once_it_is_free():
    """Raised while the import lock is held, the stop's KeyboardInterrupt could keep it held for good
    (every other thread's import then waits on it: a stopped make loss-table's healing threads did);
    the stop is taken again once the lock is free."""
    done = subprocess.run([sys.executable, '-c', STOP_WHILE_IMPORTING], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == 'taken later\nstopped False\n', done


# A stop that comes while the main thread runs an import: the module's own body sends it.
STOP_INSIDE_AN_IMPORT = '''
import os, signal, sys, tempfile
from socketlab import __main__ as main
signal.signal(signal.SIGTERM, main._stopped)
folder = tempfile.mkdtemp()
with open(os.path.join(folder, 'slow_module.py'), 'w') as module:
    module.write('import os, signal\\nos.kill(os.getpid(), signal.SIGTERM)\\nfor _ in range(10 ** 5): pass\\nwhole = True\\n')
sys.path.insert(0, folder)
try:
    import slow_module
    import threading
    threading.Event().wait(timeout=60)
    print('never stopped', flush=True)
except KeyboardInterrupt:  # wherever it landed: the module whole, or no module at all
    print('stopped, the module', getattr(sys.modules.get('slow_module'), 'whole', None), flush=True)
'''


def test_a_stop_inside_an_import_is_taken_once_the_import_is_done():
    """Raised inside importlib, the stop's KeyboardInterrupt can break its books: a make impair stopped by
    its group's SIGTERM (two signals, the second while the first's handler imported) failed with a KeyError
    from importlib's module lock, and its impairment stayed. The stop waits until the import is done."""
    done = subprocess.run([sys.executable, '-c', STOP_INSIDE_AN_IMPORT], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == 'stopped, the module True\n', done


# A stop that lands as an __exit__ begins (the docker SDK's pool takes its lock in a queue's Condition,
# whose __exit__ is Python): the signal's handler called there, as the interpreter calls it.
STOP_AS_AN_EXIT_BEGINS = '''
import signal, sys, threading
from socketlab import __main__ as main
signal.signal(signal.SIGTERM, main._stopped)
lock = threading.Lock()

class Held:
    def __enter__(self):
        lock.acquire()

    def __exit__(self, *exc):
        main._stopped(signal.SIGTERM, sys._getframe())  # the stop, where it lands as __exit__ begins
        lock.release()
try:
    with Held():
        pass
    threading.Event().wait(timeout=60)
    print('never stopped', flush=True)
except KeyboardInterrupt:
    print('stopped, the lock', 'held' if lock.locked() else 'free', flush=True)
'''


def test_a_stop_as_an_exit_begins_is_taken_once_it_has_released():
    """A stopped make loss-table never healed: its healing threads waited for ever on the lock of the
    docker SDK's connection pool, which the main thread's KeyboardInterrupt had left held (raised as the
    pool's Condition.__exit__ began, it skipped the release). The stop waits until the __exit__ is done."""
    done = subprocess.run([sys.executable, '-c', STOP_AS_AN_EXIT_BEGINS], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == 'stopped, the lock free\n', done


def test_a_clean_up_that_hangs_ends_though_nobody_reads_what_it_says():
    """A stopped make whose terminal had closed (pexpect's, a CI job's) hung on: its last word's write
    failed, and the error ended the thread that was to end the process. It ends all the same."""
    program = subprocess.Popen([sys.executable, '-c', HANGING_CLEAN_UP], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert program.stdout.readline() == 'running\n'
        program.stderr.close()  # the terminal gone: what it writes there fails
        program.send_signal(signal.SIGTERM)
        assert program.wait(timeout=120) == 1  # a hang guard far past the 1 s bound
    finally:
        program.kill()
        program.stdout.close()
