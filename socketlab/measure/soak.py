"""make soak: the lab serving the lesson's exchange many times, then many connection attempts at once,
with the server's memory, open files and log size read before and after (bounded: SOAK_EXCHANGES in
a row, default 1000, from one client container; then SOAK_CONNECTIONS at once, default 200).
Measures; asserts nothing (tests/test_soak.py runs it small)."""
import json

from .. import engine, lab, oneoff

# The lesson's exchange, N times in a row from one host (a new connection each), then M attempts at once.
ROUNDS = """import asyncio, socket, sys
host, port, rounds, burst = 'server', int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def exchange():
    try:
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(b'Hello, world')
            return sock.recv(1024) == b'Hello, world'
    except OSError:
        return False
async def attempt():  # one of many at once, from one thread (the client's 64 processes allow no more)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        writer.write(b'Hello, world')
        ok = await asyncio.wait_for(reader.read(1024), 30) == b'Hello, world'
        writer.close()
        return ok
    except (OSError, asyncio.TimeoutError):
        return False
async def at_once():
    return sum(await asyncio.gather(*(attempt() for _ in range(burst))))
done = sum(exchange() for _ in range(rounds))
print(done, asyncio.run(at_once()))"""


def server_state(server):
    """The server process's resident memory (kB) and open files, and its log's size (bytes)."""
    pid = server.attrs['State']['Pid']
    top = server.top(ps_args='-o pid,rss,comm')['Processes']
    python = next(p for p in top if 'python' in p[2])
    count = 'for p in /proc/[0-9]*; do grep -qs ServerPython $p/cmdline && ls $p/fd | wc -l; done'
    fds = server.exec_run(['sh', '-c', count]).output.decode().split()[:1]
    log = server.attrs['LogPath']
    return {'rss_kB': int(python[1]), 'open_files': int(fds[0]) if fds else None, 'log_bytes': _log_size(server),
            'pid': pid, 'log': log}


def _log_size(server):
    """What the server has printed so far, in bytes (the log as docker keeps it for this container)."""
    return len(server.logs())


def main(target):
    settings = target.settings
    rounds, burst = settings.soak_exchanges, settings.soak_connections
    server = engine.model(lab.server(target))
    before = server_state(server)
    status, out = oneoff.run(target, 'client', server, '-c', ROUNDS, str(settings.server_port), str(rounds),
                             str(burst), entrypoint=['python3'], capture=True)
    server.reload()
    after = server_state(server)
    done, at_once = (int(n) for n in out.split()) if status == 0 else (0, 0)
    result = {'exchanges': rounds, 'delivered': done, 'at_once': burst, 'at_once_delivered': at_once,
              'before': before, 'after': after, 'same_server': before['pid'] == after['pid']}
    print('{} exchanges in a row: {} delivered; {} connection attempts at once: {} delivered'.format(rounds, done, burst, at_once))
    for key, what in (('rss_kB', "the server's memory (kB)"), ('open_files', 'its open files'), ('log_bytes', 'its log (bytes)')):
        print('{:<28} before {:>10}   after {:>10}'.format(what, before[key], after[key]))
    print('the same server process throughout: {}'.format('yes' if result['same_server'] else 'NO'))
    print(json.dumps(result))
    return 0 if result['same_server'] and done == rounds else 1
