"""Runs inside a client's container, as its sitecustomize (compose.yaml mounts it at /lab/site), when
the lab runs a learner's own file exactly as the lesson wrote it: no timeout, no flags. Python imports
it before the learner's file; the file then runs as `python3 ClientPython.py` runs it, untouched.

- A bound: after SOCKET_LAB_BOUND seconds the run is stopped, with one line saying which call of the
  file it was waiting in (the learner's own line, from the frame the signal interrupted) and for what.
- A traceback stays the learner's: Python prints it as always, then one `Lab:` line explains it.

Only for the program it was asked for (SOCKET_LAB_PROGRAM); anything else Python runs here is left alone.
"""
import os
import re
import signal
import sys

# The socket call a waiting client is in -> what it waits for; against nc (SOCKET_LAB_PEER=nc) a person answers.
TYPE_A_REPLY = 'nothing has answered: type a reply in `make nc`'
WAITING = {
    'recvfrom': 'nothing has answered its datagram: type a reply in `make nc`',
    'recv': 'the server has not sent anything back (make logs shows what it printed)',
    'connect': 'no answer to its connection: nothing there accepts it',
    'sendall': 'the server does not read what it sends',
    'sendto': 'the datagram cannot leave',
    'accept': 'no client has connected',
}
# An error the lesson's code meets -> the one line beside its traceback.
EXPLAINED = [
    (ConnectionRefusedError, 'nothing listens on that address and port where your client runs: is the server up '
                             '(make lab), and does your file connect where it listens?'),
    (OSError, 'the socket call failed: the last line of the traceback says which and why'),
]
MARK = 'Lab: '


def _where(frame, program):
    """The learner's own innermost frame: (line number, function, source line)."""
    while frame is not None and frame.f_code.co_filename != program:
        frame = frame.f_back
    if frame is None:
        return None
    import linecache
    return frame.f_lineno, frame.f_code.co_name, linecache.getline(program, frame.f_lineno).strip()


def _stopped(number, frame):
    program = os.environ['SOCKET_LAB_PROGRAM']
    where = _where(frame, program)
    name = os.path.basename(program)
    if where is None:
        line = 'stopped after {} s: your client was still running'.format(os.environ['SOCKET_LAB_BOUND'])
    else:
        lineno, function, source = where
        called = re.findall(r'\.(\w+)\(', source)
        call = next((c for c in reversed(called) if c in WAITING), None)
        waiting = 'waiting in {}()'.format(call) if call else 'still running'
        why = WAITING.get(call)
        if call == 'recv' and os.environ.get('SOCKET_LAB_PEER') == 'nc':
            why = TYPE_A_REPLY
        line = 'stopped after {} s: your client is {} ({} line {}, in {}: {}){}'.format(
            os.environ['SOCKET_LAB_BOUND'], waiting, name, lineno, function, source, ': ' + why if why else '')
    sys.stdout.flush()
    sys.stderr.write(MARK + line + '\n')
    sys.stderr.flush()
    os._exit(124)  # as timeout(1) says it stopped a command


def _explained(kind, error, trace):
    sys.__excepthook__(kind, error, trace)
    if isinstance(error, TypeError) and 'bytes-like' in str(error):
        said = "sockets carry bytes: send b'Hello, world', not 'Hello, world' (the lesson's warning)"
    elif isinstance(error, NameError) and getattr(error, 'name', '') == 'socket':
        said = 'add `import socket` at the top of the file'
    elif kind.__module__ == 'socket' and kind.__name__ == 'gaierror':
        said = "that name does not resolve in the lab: its hosts are 'server' and 'netcat'"
    elif kind.__module__ == 'ssl' and kind.__name__ == 'SSLCertVerificationError':  # lesson 7's first run
        said = ("the server's certificate is not trusted, as the lesson shows: its next step switches the check off "
                "(context.check_hostname = False, then context.verify_mode = ssl.CERT_NONE)")
    else:
        said = next((text for base, text in EXPLAINED if isinstance(error, base)), None)
    if said:
        sys.stderr.write(MARK + said + '\n')


if os.environ.get('SOCKET_LAB_PROGRAM') and sys.argv[:1] == [os.environ['SOCKET_LAB_PROGRAM']]:
    sys.excepthook = _explained
    if os.environ.get('SOCKET_LAB_BOUND'):
        signal.signal(signal.SIGALRM, _stopped)
        signal.alarm(int(os.environ['SOCKET_LAB_BOUND']))
