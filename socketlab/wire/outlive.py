"""Runs inside a client's container: the program, then a wait until the TCP connections it closed
have finished closing, as a host that stays on the network does. A FIN lost on the way is sent again
and acknowledged before the container (the host) goes, so the one-client-at-a-time server is never
left waiting for a client that is gone. At most 60 s: a FIN is sent again after 0.2, 0.6, 1.4, 3, 6.2,
12.6, 25.4 s, or, when the connection's SYN had to be sent again (no round-trip measured, so a 3 s
timeout), after 3, 9, 21, 45 s. Returns at once when nothing was lost; the program's exit status.

    python3 -S outlive.py PROGRAM [ARGS...]       (compose.yaml's client entrypoint)

It costs every make tcp its start, so it starts light: no site (-S: nor the lab's sitecustomize, which is
the program's), the program spawned with os alone (subprocess's import took longer than Python's start).
"""
import os
import signal
import sys
import time

# /proc/net/tcp's states of a connection whose own FIN is not yet acknowledged:
# FIN_WAIT1 (04), CLOSING (0B), LAST_ACK (09). After that (FIN_WAIT2, TIME_WAIT) the peer has it.
UNACKNOWLEDGED = {'04', '0B', '09'}
OUTLIVE_SECONDS = 60
# make capture asks for the program's socket calls: strace runs it (a process may trace its own child),
# and its lines follow on stderr, each after this mark (socketlab.oneoff keeps them off the screen).
TRACE_MARK = '\x1esocket-lab-trace '
TRACE_FILE = '/tmp/socket-lab.trace'


def closing():
    """How many of this network namespace's TCP connections still wait for their FIN's acknowledgement."""
    count = 0
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                count += sum(1 for line in list(f)[1:] if line.split()[3] in UNACKNOWLEDGED)
        except OSError:
            pass
    return count


if __name__ == '__main__':
    traced = os.environ.get('SOCKET_LAB_TRACE') == '1'
    argv = sys.argv[1:]
    if traced:
        argv = ['strace', '-f', '-qq', '-ttt', '-T', '-s', '256', '-e', 'trace=%network,close', '-e', 'signal=none',
                '-o', TRACE_FILE, *argv]
    program = os.posix_spawnp(argv[0], argv, os.environ)

    def passed_on(received, frame):  # Ctrl-C, make down: to the program, as if it ran alone
        try:
            os.kill(program, received)
        except ProcessLookupError:
            pass  # it has ended: the wait for its FINs is bounded
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, passed_on)
    status = os.waitstatus_to_exitcode(os.waitpid(program, 0)[1])  # a signal's: -its number
    if traced:
        try:
            with open(TRACE_FILE) as trace:
                sys.stderr.writelines(TRACE_MARK + line for line in trace)
        except OSError:
            pass
    deadline = time.monotonic() + OUTLIVE_SECONDS
    while closing() and time.monotonic() < deadline:
        time.sleep(0.005)  # polls the kernel's own state: the wait ends when the last FIN is acknowledged
    sys.exit(status if status >= 0 else 128 - status)
