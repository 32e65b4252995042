"""The lesson's client (and nc as a TCP client) run against the lab: `make tcp`, `make udp`, `make
tcp-nc`, `make server-nc`, and the next lesson's loops of clients, `make clients`. Each is a new
container, a new host on the lab network; what it prints is the transcript the lesson shows."""
import sys
from dataclasses import dataclass, field

from . import engine, images, lab, learner, oneoff
from .settings import SettingError

# The next lesson's loop, `for i in {1..100}; do python3 ClientPython.py; done`, with the count given
# as an argument (bash expands {1..100} before it would read a variable). Each client is a new connection.
LOOP = 'for ((i = 1; i <= $1; i++)); do python3 /app/ClientPython.py; done'
LOOP_ENTRYPOINT = ['python3', '-S', '/lab/outlive.py', 'bash', '-c', LOOP, 'loop']  # a host outlives its sockets


# The learner's file in the client's container. One written as the lesson writes it (no timeout) is
# stopped after TIMEOUT seconds, saying which call it waited in (socketlab/wire/bound.py, its sitecustomize).
PROGRAM = '/app/ClientPython.py'


@dataclass(frozen=True)
class Placement:
    """How one run of the client goes: against nc (udp, or make tcp-nc) or the server; on its peer's
    host (beside: the peer's network namespace) or a host of its own; its flags and environment; and
    the lab's lines that say so."""
    against_nc: bool
    udp: bool
    beside: bool = False
    args: tuple = ()
    environment: dict = field(default_factory=dict)
    said: tuple = ()


def against_nc(program, asked_udp, to_nc):
    """Whether the run goes to nc: as the target says for the lab's reference client; for a file as the
    lesson writes it, when it is a UDP client, or a TCP client that make tcp-nc starts."""
    return to_nc if program.lab_flags else program.udp or (to_nc and not asked_udp)


def place(settings, program, asked_udp, to_nc, server_loopback=None):
    """The run that the target (asked_udp: make udp; to_nc: make udp or tcp-nc) and the file
    (learner.ClientFile) make together. The lab's reference client takes the lab's flags; a file as the
    lesson writes it decides what it runs and where it talks to, and is bounded (SOCKET_LAB_BOUND)."""
    to_netcat = against_nc(program, asked_udp, to_nc)
    if program.lab_flags:
        if to_netcat:
            return Placement(True, asked_udp, args=(*(['--udp'] if asked_udp else []), '--host', 'netcat', *settings.args))
        if server_loopback:
            return Placement(False, False, True, settings.args, {'SERVER_NAME': 'localhost'}, said=(
                "Lab: the server listens on its loopback only: the client runs on the server's host and connects to localhost.",))
        return Placement(False, False, args=settings.args)
    said = []
    udp = program.udp
    if udp != asked_udp and program.main_call:
        said.append('Lab: client/ClientPython.py ends by calling {}(): a {} client, so it runs against {}, as make {} runs it.'.format(
            program.main_call, 'UDP' if udp else 'TCP', 'nc' if udp else 'the server', 'udp' if udp else 'tcp'))
    elif udp != asked_udp:
        said.append('Lab: client/ClientPython.py calls no start_client_simple() or start_client_simple_udp() yet: it runs '
                    'as it is, against the server.')
    verb = 'sends to' if udp else 'connects to'
    if program.on_loopback:
        said.append("Lab: your client {} 'localhost', as the lesson's does: it runs on {} host (in its network namespace), "
                    "as the lesson's two terminals on one machine. To cross the lab's network, it would use '{}'.".format(
                        verb, "nc's" if to_netcat else "the server's", 'netcat' if to_netcat else 'server'))
    elif server_loopback and not to_netcat:
        said.append("Lab: the server listens on its loopback only, and your client connects to another host, where nothing "
                    "listens. Bind '0.0.0.0' in the server, or connect to 'localhost'.")
    environment = {'SOCKET_LAB_PROGRAM': PROGRAM, 'SOCKET_LAB_BOUND': str(settings.timeout), 'PYTHONPATH': '/lab/site',
                   'SOCKET_LAB_PEER': 'nc' if to_netcat else 'server'}
    return Placement(to_netcat, udp, program.on_loopback, settings.args, environment, tuple(said))


def _client(target, asked_udp, to_nc):
    """make tcp, udp, tcp-nc: the learner's file against the server or a fresh nc, as it and the target say."""
    settings = target.settings
    program = learner.client_file()
    if program.menu:  # with no terminal, input() fails at once, and the lesson's menu prints its error without end
        raise SettingError("client/ClientPython.py ends by calling start_client(), lesson 6's menu, which reads what "
                           "you type: make menu runs it in your terminal")
    if against_nc(program, asked_udp, to_nc):
        images.ensure(settings, 'client', 'netcat')
        placement = place(settings, program, asked_udp, to_nc)
        from . import netcat  # against nc only: make tcp's loop need not import it (and the wire's rooms)
        peer, service = netcat.fresh(target, mode='udp' if placement.udp else 'tcp'), 'netcat'
    else:  # the server first: whether it listens on its loopback only decides where the client runs
        images.ensure(settings, 'client')
        peer, service = lab.server(target), 'server'
        placement = place(settings, program, asked_udp, to_nc, lab.served_on_loopback(settings))
    for line in placement.said:
        print(line, file=sys.stderr)
    sys.stderr.flush()

    def exchange(trace=None):
        return oneoff.run(target, 'client', peer, *placement.args, trace=trace,
                          environment=placement.environment, beside=placement.beside)[0]
    if not settings.capture:
        return exchange()
    from .wire import capture  # only when it captures: its decoder (dpkt) is a third of make tcp's imports
    name = ('udp' if placement.udp else 'tcp-nc' if placement.against_nc else 'tls' if '--tls' in placement.args
            else 'records' if {'--upload', '--query'} & set(placement.args) else 'tcp')
    return capture.around(target, service, name, exchange, interface='lo' if placement.beside else 'eth0')


def tcp(target):
    return _client(target, asked_udp=False, to_nc=False)


def udp(target):
    return _client(target, asked_udp=True, to_nc=True)


def tls(target):
    """make tls: lesson 7's client (start_client_simple_ssl) against the server, the lab's certificates
    made first (socketlab.tls). The lab's client takes --tls; a file as the lesson writes it runs as make
    tcp runs it (it calls start_client_simple_ssl itself)."""
    settings = target.settings
    from . import tls as certificates
    certificates.ensure(target)
    if settings.server != 'python':
        print("Lab: the server is {}, which speaks no TLS: make lab SERVER=python STAGE=tls first.".format(
            server_said(settings)), file=sys.stderr)
    elif learner.server_has_stages() and settings.stage not in certificates.STAGES:
        print("Lab: the server runs stage {}, which speaks no TLS: make lab STAGE=tls-as-printed (the lesson's) "
              "or STAGE=tls (the lab's CA) first.".format(settings.stage), file=sys.stderr)
    return _client(target.with_settings(args=('--tls', *settings.args)), asked_udp=False, to_nc=False)


def records(target, *flags):
    """make upload, make query: the lab's client's --upload or --query against the lab's RecordServer."""
    settings = target.settings
    if not learner.client_file().lab_flags:
        raise SettingError("make upload and make query run the lab's client (its --upload and --query); yours is "
                           "your own file: make menu runs it, its menu's choices 1 and 2")
    _said_without_records(settings)
    return _client(target.with_settings(args=(*flags, *settings.args)), asked_udp=False, to_nc=False)


def upload(target):
    return records(target, '--upload', LOG_FILE)


def query(target):
    return records(target, '--query', target.settings.query)


def server_said(settings):
    return {'c': "lesson 9's ServerC", 'records': "the lab's RecordServer"}.get(settings.server, 'ServerPython.py')


def _said_without_records(settings, why=''):
    """One line when the server is not the lab's RecordServer, which lesson 7's upload and query need."""
    if settings.server != 'records':
        print("Lab: the server runs {}, which does not speak lesson 7's upload and query: make lab SERVER=records "
              "first{}.".format(server_said(settings), why), file=sys.stderr)


# make menu: lessons 6 and 7's client, typed into. It runs in a writable folder of its own (its container's
# /tmp) holding a copy of the learner's log files, so that the lesson's relative paths work as in the lesson:
# test.log typed at its prompt, the query_log.txt it writes (gone with the container).
LOG_FILE = '/app/test.log'
MENU_ENTRYPOINT = ['sh', '-c', 'cp /app/*.log /tmp/ 2>/dev/null; cd /tmp && exec python3 /app/ClientPython.py']


def menu(target):
    """make menu: the learner's own client with lesson 6's menu (start_client()), in this terminal, against
    the server (on the server's host when the client talks to 'localhost', as the lesson's does)."""
    settings = target.settings
    program = learner.client_file()
    if program.lab_flags or not program.menu:
        raise SettingError("make menu runs a client that ends by calling start_client(), lesson 6's menu; {}: make "
                           "upload and make query run the lab's client's upload and query".format(
                               "client/ClientPython.py is the lab's" if program.lab_flags else
                               'client/ClientPython.py calls {}'.format(program.main_call + '()' if program.main_call else 'no start_client')))
    if not sys.stdin.isatty():
        raise SettingError('make menu: a person types into it: run it in a terminal')
    images.ensure(settings, 'client')
    server = lab.server(target)
    _said_without_records(settings, ' (an echo server sends a query its own bytes back)')
    said = ["Lab: your client runs in its container's /tmp, with a copy of client/test.log: type test.log at its "
            "prompt; the query_log.txt it writes goes with the container."]
    if program.on_loopback:
        said.append("Lab: your client connects to 'localhost', as the lesson's does: it runs on the server's host.")
    print('\n'.join(said), file=sys.stderr)
    return oneoff.run_in_terminal(target, 'client', server, entrypoint=MENU_ENTRYPOINT, beside=program.on_loopback)


def tcp_nc(target):
    return _client(target, asked_udp=False, to_nc=True)


def server_nc(target):
    """The server lesson's own check: nc as a TCP client of the server (typed into; Ctrl-D closes); on
    the server's host, as the lesson's `nc 127.0.0.1 12345`, when the server listens on its loopback only."""
    settings = target.settings
    images.ensure(settings, 'netcat')
    server = lab.server(target)
    beside = lab.served_on_loopback(settings) is not None
    return oneoff.run_in_terminal(target, 'netcat', server, '-N', '127.0.0.1' if beside else 'server',
                                  str(settings.server_port), entrypoint=['nc.openbsd'], beside=beside)


def clients(target):
    """make clients N=100 LOOPS=2: LOOPS loops of N clients, started at once, each loop in a container
    (a host) of its own, as the lesson's terminals 2 and 3; then the server's last line."""
    settings = target.settings
    count, loops = settings.clients, settings.loops
    images.ensure(settings, 'client')
    server = engine.model(lab.server(target))
    totals = [line for line in server.logs(stderr=False).decode(errors='replace').splitlines() if line.startswith('Total')]
    if totals:  # the server counts on from its earlier clients (make lab STAGE=... again does not restart it)
        print("Before the loops, the server's last total: " + totals[-1])
    # Where the loops run: as make tcp runs the client (on the server's host when either talks on loopback only)
    placement = place(settings, learner.client_file(), False, False, lab.served_on_loopback(settings))
    for line in placement.said:
        print(line, file=sys.stderr)
    if loops == 1:  # one terminal: its lines as they come, as the lesson shows them
        status = oneoff.run(target, 'client', server, str(count), entrypoint=LOOP_ENTRYPOINT,
                            environment=placement.environment, beside=placement.beside)[0]
    else:
        started = [oneoff.create(target, 'client', server, str(count), entrypoint=LOOP_ENTRYPOINT,
                                 environment=placement.environment, beside=placement.beside) for _ in range(loops)]
        try:
            addresses = []
            for container in started:
                container.start()
                container.reload()
                addresses.append(engine.address(container) or "the server's host")
            status = max(container.wait()['StatusCode'] for container in started)
            for number, (container, address) in enumerate(zip(started, addresses), 1):
                lines = container.logs(stderr=False).decode(errors='replace').splitlines()
                print('loop {} on {}: {} clients, {} printed "Received: b\'Hello, world\'"'.format(
                    number, address, lines.count('Starting client...'), lines.count("Received: b'Hello, world'")))
        finally:
            for container in started:
                oneoff.remove(container)
    last = server.logs(stderr=False).decode(errors='replace').splitlines()[-1:]
    print("The server's last line (make logs shows them all): " + (last[0] if last else '(none)'))
    return status
