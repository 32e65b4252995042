import fcntl
import os
import queue
import re
import select
import signal
import socket
import ssl
import struct
import sys
import termios
import threading
from concurrent.futures import ThreadPoolExecutor

SERVER_NAME = 'localhost'
SERVER_PORT = 12345
messageCounter = 0
messageCounterLock = threading.Lock()
condition = threading.Condition()

# Lab addition: the address the listening socket binds. Other containers cannot reach 'localhost',
# so the lab sets LISTEN_ADDRESS=0.0.0.0; the start line still names SERVER_NAME, as in the lesson.
LISTEN_ADDRESS = os.environ.get('LISTEN_ADDRESS', SERVER_NAME)

# Lab addition: seconds a connected client may stay silent before the server closes it, so one
# silent client cannot keep the others waiting forever (one client at a time, as in the lesson).
IDLE_TIMEOUT = os.environ.get('IDLE_TIMEOUT', '300')

# Lab addition: how many bytes each recv() asks for. The lesson uses 1024 and calls it a trade-off;
# RECV_SIZE lets `make bench` run that experiment. Nothing else changes with it.
RECV_SIZE = os.environ.get('RECV_SIZE', '1024')


# Lab addition: which stage of the "Handling Multiple Simultaneous Connections" lesson runs (make lab
# STAGE=threads, ...); the lesson itself comments one call out in start_server and adds the next.
SERVER_STAGE = os.environ.get('SERVER_STAGE', 'simple')


# Lab addition: a bad command line or setting ends the program with one clear line, no traceback.
class ConfigError(Exception):
    pass


# parse_command_line_arguments reads the port from the command line
# Arguments: args - the command line arguments, without the program name
# Return Value: the port number to listen on (SERVER_PORT if none is given)
# Assumptions: ports are given as -p PORT or --port=PORT (the first -p wins over any --port=); a -p
#              with nothing after it is ignored
def parse_command_line_arguments(args):
    port = SERVER_PORT

    # Lab addition: what the lesson would ignore or half-read is refused in one line: an unknown
    # argument, and a --port= that is not all digits (the lesson's pattern takes 40003 of --port=40003abc).
    for i, arg in enumerate(args):
        if arg.startswith('--port=') and not re.fullmatch(r'--port=\d+', arg):
            raise ConfigError('bad port {!r}: give a number from 1 to 65535'.format(arg[len('--port='):]))
        if arg != '-p' and not arg.startswith('--port=') and (i == 0 or args[i - 1] != '-p'):
            raise ConfigError('unknown argument {!r}: use -p PORT or --port=PORT'.format(arg))

    # Check if -p parameter is provided
    if '-p' in args:
        index = args.index('-p')
        if index + 1 < len(args):
            port = parse_port(args[index + 1])
            return port

    # Check if --port= parameter is provided
    for arg in args:
        match = re.match(r'--port=(\d+)', arg)
        if match:
            port = parse_port(match.group(1))
            return port

    return port


# parse_port turns the text of a port into a number, as the lesson does with int()
# Arguments: text - the port as a string, e.g. '12345'
# Return Value: the port as an int
# Assumptions: none; anything but a number from 1 to 65535 raises ConfigError
def parse_port(text):
    try:
        port = int(text)
    except ValueError:
        raise ConfigError('bad port {!r}: give a number from 1 to 65535'.format(text)) from None
    if not 1 <= port <= 65535:
        raise ConfigError('bad port {!r}: give a number from 1 to 65535'.format(text))
    return port


# positive_setting reads one of the lab's numeric settings
# Arguments: name - the setting's name, text - its value as a string, kind - int or float
# Return Value: the value as a positive number of that kind
# Assumptions: none; anything but a positive number (at most a day of seconds, a gigabyte) raises ConfigError
def positive_setting(name, text, kind):
    try:
        value = kind(text)
    except ValueError:
        value = 0
    # Lab addition: inf, nan and anything past a day (or a gigabyte) would crash the socket calls.
    if not 0 < value <= (86400 if kind is float else 1 << 30):
        raise ConfigError('bad {} {!r}: give a positive number'.format(name, text))
    return value


# initialize_server_socket creates the listening TCP socket
# Arguments: port - the TCP port to listen on
# Return Value: the listening socket
# Assumptions: nothing else is listening on that port
def initialize_server_socket(port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Lab addition: lets a restarted server bind at once, not after TIME_WAIT runs out.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LISTEN_ADDRESS, port))
    sock.listen(5)
    return sock


# handle_new_connections_simple accepts clients one at a time and echoes what each one sends
# Arguments: sock - the listening socket, idle_timeout - seconds of silence before a client is
#            closed, recv_size - bytes asked for by each recv()
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_simple(sock, idle_timeout, recv_size):

    # handle_client echoes everything a client sends, until the client closes the connection
    # Arguments: conn - the socket connected to the client
    # Return Value: None
    # Assumptions: conn is a valid, connected socket
    def handle_client(conn):
        while True:
            data = conn.recv(recv_size)
            if not data:
                break
            print('Received:', data)
            conn.sendall(data)
        conn.close()

    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        # Lab addition: a client's bad behaviour ends its connection with one line, never the server.
        conn.settimeout(idle_timeout)
        try:
            handle_client(conn)
        except socket.timeout:
            unread = bytes_not_taken(conn)
            if unread:
                print('Closed connection from ', address, 'after', format_seconds(idle_timeout), 's: it stopped reading,',
                      unread, 'bytes of the echo not taken')
            else:
                print('Closed idle connection from ', address, 'after', format_seconds(idle_timeout), 's')
        except OSError as error:
            print('Connection from ', address, 'lost:', error.strerror or error)
        finally:
            conn.close()


# handle_new_connections_threads accepts clients and serves each one in a thread of its own
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_threads(sock):

    # handle_client echoes everything a client sends, until the client closes the connection
    # Arguments: conn - the socket connected to the client
    # Return Value: None
    # Assumptions: conn is a valid, connected socket
    def handle_client(conn):
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            conn.sendall(data)
        conn.close()

    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()


# Lab: the lesson edits handle_new_connections_threads in place at each of its next four steps (the
# counter without and then with `global`, the lock, the condition); the lab keeps each step as a
# function of its own, named the lesson's name and the step's, so that make lab STAGE= runs any of
# them. A learner's own file does as the lesson does: one handle_new_connections_threads, edited.

# handle_new_connections_threads_counter_without_global counts messages as the lesson first writes it
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_threads_counter_without_global(sock):

    # handle_client echoes and counts what a client sends
    # Lab: as the lesson first writes it, with no `global messageCounter`: Python then takes
    # messageCounter for a local variable and the thread dies with an UnboundLocalError.
    # The fix is the stage "counter" (handle_new_connections_threads_counter).
    def handle_client(conn):
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            nextCount = messageCounter + 1
            threading.Event().wait(0.1)  # simulated latency
            messageCounter = nextCount
            print('Total messages received:', messageCounter)
            conn.sendall(data)
        conn.close()

    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()


# handle_new_connections_threads_counter counts every message, from every client's thread
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_threads_counter(sock):

    # handle_client echoes and counts what a client sends (two at once race: see the lock stage)
    def handle_client(conn):
        global messageCounter
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            nextCount = messageCounter + 1
            threading.Event().wait(0.1)  # simulated latency
            messageCounter = nextCount
            print('Total messages received:', messageCounter)
            conn.sendall(data)
        conn.close()

    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()


# handle_new_connections_threads_lock counts every message, one thread at a time
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_threads_lock(sock):

    # handle_client echoes and counts what a client sends, the count under messageCounterLock
    def handle_client(conn):
        global messageCounter
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            with messageCounterLock:
                nextCount = messageCounter + 1
                threading.Event().wait(0.1)  # simulated latency
                messageCounter = nextCount
            print('Total messages received:', messageCounter)
            conn.sendall(data)
        conn.close()

    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()


# handle_new_connections_threads_condition counts with the lock and says when 100 messages came
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_threads_condition(sock):

    # notify_100 waits on the condition, then says whether 100 messages have come
    def notify_100():
        with condition:
            condition.wait()
            if messageCounter >= 100:
                print('*** 100 messages received ***')
            else:
                print('Error: notify_100() called before 100 messages received')

    # handle_client echoes and counts what a client sends; the 100th message notifies notify_100
    def handle_client(conn):
        global messageCounter
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            with messageCounterLock:
                nextCount = messageCounter + 1
                threading.Event().wait(0.1)  # simulated latency
                messageCounter = nextCount
                if messageCounter == 100:
                    with condition:
                        condition.notify_all()
            print('Total messages received:', messageCounter)
            conn.sendall(data)
        conn.close()

    notifyThread = threading.Thread(target=notify_100)
    notifyThread.start()
    while True:
        conn, address = sock.accept()
        print('Received new connection from ', address)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()


# handle_new_connections_select_as_printed serves every client from one thread with select()
# Arguments: sock - the listening socket
# Return Value: None (it loops while it listens)
# Assumptions: sock is a valid socket that is already bound and listening
# Lab: as the lesson prints it. When a client's close and its socket's write-readiness come in the
# same pass, the read step closes it and deletes its queue, then the write step looks the queue up:
# KeyError, and the server is gone. The stage "select" (below) is the smallest fix.
def handle_new_connections_select_as_printed(sock):
    global messageCounter
    inputs = [sock]
    outputs = []
    message_queues = {}
    while inputs:
        results = select.select(inputs, outputs, inputs)
        readable, writable, exceptional = results[0], results[1], results[2]
        for s in readable:
            if s is sock:
                conn, address = s.accept()
                print('Received new connection from ', address)
                inputs.append(conn)
                message_queues[conn] = queue.Queue()
            else:
                data = s.recv(1024)
                if data:
                    print('Received:', data)
                    nextCount = messageCounter + 1
                    messageCounter = nextCount
                    print('Total messages received:', messageCounter)
                    message_queues[s].put(data)
                    if s not in outputs:
                        outputs.append(s)
                else:
                    if s in outputs:
                        outputs.remove(s)
                    inputs.remove(s)
                    s.close()
                    del message_queues[s]
        for s in writable:
            try:
                next_msg = message_queues[s].get_nowait()
            except queue.Empty:
                outputs.remove(s)
            else:
                sent = s.send(next_msg)
                if sent < len(next_msg):
                    remaining_msg = next_msg[sent:]
                    message_queues[s].queue.appendleft(remaining_msg)
        for s in exceptional:
            inputs.remove(s)
            if s in outputs:
                outputs.remove(s)
            s.close()
            del message_queues[s]


# handle_new_connections_select serves every client from one thread with select(), closed sockets skipped
# Arguments: sock - the listening socket
# Return Value: None (it loops while it listens)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_select(sock):
    global messageCounter
    inputs = [sock]
    outputs = []
    message_queues = {}
    while inputs:
        results = select.select(inputs, outputs, inputs)
        readable, writable, exceptional = results[0], results[1], results[2]
        for s in readable:
            if s is sock:
                conn, address = s.accept()
                print('Received new connection from ', address)
                inputs.append(conn)
                message_queues[conn] = queue.Queue()
            else:
                data = s.recv(1024)
                if data:
                    print('Received:', data)
                    nextCount = messageCounter + 1
                    messageCounter = nextCount
                    print('Total messages received:', messageCounter)
                    message_queues[s].put(data)
                    if s not in outputs:
                        outputs.append(s)
                else:
                    if s in outputs:
                        outputs.remove(s)
                    inputs.remove(s)
                    s.close()
                    del message_queues[s]
        for s in writable:
            if s not in message_queues:  # Lab fix: closed in the read step of this same pass
                continue
            try:
                next_msg = message_queues[s].get_nowait()
            except queue.Empty:
                outputs.remove(s)
            else:
                sent = s.send(next_msg)
                if sent < len(next_msg):
                    remaining_msg = next_msg[sent:]
                    message_queues[s].queue.appendleft(remaining_msg)
        for s in exceptional:
            if s not in message_queues:  # Lab fix: closed in the read step of this same pass
                continue
            inputs.remove(s)
            if s in outputs:
                outputs.remove(s)
            s.close()
            del message_queues[s]


# handle_new_connections_poll_as_printed serves every client from one thread with poll()
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
# Lab: as the lesson's code block prints it: POLLIN & POLLOUT is 0, so a socket with data to echo
# is watched for nothing and the echo is never sent (the client waits). The stage "poll" is the fix.
def handle_new_connections_poll_as_printed(sock):
    global messageCounter
    message_queues = {}
    fd_to_socket = {sock.fileno(): sock}
    timeout = 1000
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while True:
        events = poller.poll(timeout)
        for fd, flag in events:
            s = fd_to_socket[fd]
            if flag & (select.POLLIN | select.POLLPRI):
                if s is sock:
                    conn, address = s.accept()
                    print('Received new connection from ', address)
                    # conn = setup_ssl(conn)
                    fd_to_socket[conn.fileno()] = conn
                    poller.register(conn, select.POLLIN)
                    message_queues[conn] = queue.Queue()
                else:
                    data = s.recv(1024)
                    if data:
                        print('Received:', data)
                        nextCount = messageCounter + 1
                        messageCounter = nextCount
                        print('Total messages received:', messageCounter)
                        message_queues[s].put(data)
                        poller.modify(s, select.POLLIN & select.POLLOUT)
                    else:
                        poller.unregister(s)
                        s.close()
                        del message_queues[s]
            if flag & select.POLLOUT:
                try:
                    next_msg = message_queues[s].get_nowait()
                except queue.Empty:
                    poller.modify(s, select.POLLIN)
                else:
                    sent = s.send(next_msg)
                    if sent < len(next_msg):
                        message_queues[s].queue.appendleft(next_msg[sent:])
            if flag & select.POLLERR:
                poller.unregister(s)
                s.close()
                del message_queues[s]


# handle_new_connections_poll serves every client from one thread with poll(), as the lesson's prose says
# Arguments: sock - the listening socket
# Return Value: None (it loops forever)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_poll(sock):
    global messageCounter
    message_queues = {}
    fd_to_socket = {sock.fileno(): sock}
    timeout = 1000
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    while True:
        events = poller.poll(timeout)
        for fd, flag in events:
            s = fd_to_socket[fd]
            if flag & (select.POLLIN | select.POLLPRI):
                if s is sock:
                    conn, address = s.accept()
                    print('Received new connection from ', address)
                    # conn = setup_ssl(conn)
                    fd_to_socket[conn.fileno()] = conn
                    poller.register(conn, select.POLLIN)
                    message_queues[conn] = queue.Queue()
                else:
                    data = s.recv(1024)
                    if data:
                        print('Received:', data)
                        nextCount = messageCounter + 1
                        messageCounter = nextCount
                        print('Total messages received:', messageCounter)
                        message_queues[s].put(data)
                        poller.modify(s, select.POLLIN | select.POLLOUT)  # Lab fix: | (the code block has &)
                    else:
                        poller.unregister(s)
                        s.close()
                        del message_queues[s]
            if s is not sock and s not in message_queues:  # Lab fix: closed in the read step just above
                continue
            if flag & select.POLLOUT:
                try:
                    next_msg = message_queues[s].get_nowait()
                except queue.Empty:
                    poller.modify(s, select.POLLIN)
                else:
                    sent = s.send(next_msg)
                    if sent < len(next_msg):
                        message_queues[s].queue.appendleft(next_msg[sent:])
            if flag & select.POLLERR:
                poller.unregister(s)
                s.close()
                del message_queues[s]


# handle_new_connections_thread_pool serves clients from a pool of 10 threads, and stops gracefully
# Arguments: sock - the listening socket
# Return Value: None (it returns once interrupted, e.g. by Ctrl-C)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_thread_pool(sock):
    global messageCounter
    messageCounter = []

    # handle_client echoes what a client sends and keeps each message (list.append needs no lock)
    def handle_client(conn):
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            messageCounter.append(data)
            print('Total messages received:', len(messageCounter))
            conn.sendall(data)
        conn.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        try:
            while True:
                conn, address = sock.accept()
                print('Received new connection from ', address)
                # conn = setup_ssl(conn)
                pool.submit(handle_client, conn)
        except:  # noqa: E722 (the lesson's bare except: Ctrl-C, or the lab's SIGTERM, ends the loop)
            print('Shutting down gracefully...')


# SSLContextSingleton builds the server's TLS context once and gives every caller that same one
# Arguments: none
# Return Value: the one instance; its .context is the server's SSLContext
# Assumptions: server.crt and server.key are in the working directory (the lesson's openssl commands
#              make them; the lab makes them for you, and runs the server in their folder)
class SSLContextSingleton:
    _instance = None

    def __new__(cls, *args, **kwargs):
        if cls._instance is None:
            cls._instance = super().__new__(cls, *args, **kwargs)
            cls._instance.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cls._instance.context.load_cert_chain(certfile="server.crt", keyfile="server.key")
        return cls._instance


# setup_ssl turns an accepted connection into a TLS connection (the handshake happens here)
# Arguments: sock - a connection accept() returned
# Return Value: the wrapped socket, to use in place of sock
# Assumptions: the client speaks TLS; if the handshake fails, ssl.SSLError (or OSError) is raised
def setup_ssl(sock):
    context = SSLContextSingleton().context
    return context.wrap_socket(sock, server_side=True)


# handle_new_connections_thread_pool_ssl is the thread pool with the lesson's setup_ssl line made live
# Arguments: sock - the listening socket
# Return Value: None (it returns once interrupted, or once any handshake fails: the lesson's flaw)
# Assumptions: sock is a valid socket that is already bound and listening
# Lab addition: the lesson edits handle_new_connections_thread_pool in place; the lab keeps both stages.
def handle_new_connections_thread_pool_ssl(sock):
    global messageCounter
    messageCounter = []

    # handle_client echoes what a client sends and keeps each message (list.append needs no lock)
    def handle_client(conn):
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            messageCounter.append(data)
            print('Total messages received:', len(messageCounter))
            conn.sendall(data)
        conn.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        try:
            while True:
                conn, address = sock.accept()
                print('Received new connection from ', address)
                conn = setup_ssl(conn)
                pool.submit(handle_client, conn)
        except:  # noqa: E722 (the lesson's bare except: a failed handshake ends the server too)
            print('Shutting down gracefully...')


# handle_new_connections_thread_pool_ssl_fixed: the same, with the handshake in the client's own thread
# Arguments: sock - the listening socket
# Return Value: None (it returns once interrupted)
# Assumptions: sock is a valid socket that is already bound and listening
def handle_new_connections_thread_pool_ssl_fixed(sock):
    global messageCounter
    messageCounter = []

    # handle_client makes the handshake, then echoes what a client sends and keeps each message
    def handle_client(conn, address):
        # Lab: the smallest fix: a handshake that fails (a plaintext client, a client that refuses the
        # certificate) ends that connection only, said in one line; one that never comes, after 10 s.
        conn.settimeout(10)
        try:
            conn = setup_ssl(conn)
        except (ssl.SSLError, OSError) as error:
            print('TLS handshake with ', address, 'failed:', error)
            conn.close()
            return
        conn.settimeout(None)
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            messageCounter.append(data)
            print('Total messages received:', len(messageCounter))
            conn.sendall(data)
        conn.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        try:
            while True:
                conn, address = sock.accept()
                print('Received new connection from ', address)
                pool.submit(handle_client, conn, address)
        except:  # noqa: E722 (the lesson's bare except: Ctrl-C, or the lab's SIGTERM, ends the loop)
            print('Shutting down gracefully...')


# Lab addition: the lesson's stages by the name `make lab STAGE=...` gives them.
STAGES = {
    'threads': handle_new_connections_threads,
    'counter-without-global': handle_new_connections_threads_counter_without_global,
    'counter': handle_new_connections_threads_counter,
    'lock': handle_new_connections_threads_lock,
    'condition': handle_new_connections_threads_condition,
    'select-as-printed': handle_new_connections_select_as_printed,
    'select': handle_new_connections_select,
    'poll-as-printed': handle_new_connections_poll_as_printed,
    'poll': handle_new_connections_poll,
    'thread-pool': handle_new_connections_thread_pool,
    'tls-as-printed': handle_new_connections_thread_pool_ssl,
    'tls': handle_new_connections_thread_pool_ssl_fixed,
}


# bytes_not_taken says how much the server sent that the client has not taken yet (Linux's SIOCOUTQ)
# Arguments: conn - a connected TCP socket
# Return Value: the number of bytes still waiting in conn's send queue
# Assumptions: none; 0 where the kernel cannot say
def bytes_not_taken(conn):
    # Lab addition: tells a client that stopped reading (its echo piles up) from a silent one.
    try:
        return struct.unpack('i', fcntl.ioctl(conn.fileno(), termios.TIOCOUTQ, b'\0' * 4))[0]
    except OSError:
        return 0


# format_seconds prints 2.0 as 2 and 0.5 as 0.5
# Arguments: seconds - a float
# Return Value: the shortest text for it
# Assumptions: none
def format_seconds(seconds):
    return '{:g}'.format(seconds)


# start_server sets up the listening socket and serves clients
# Arguments: port - the TCP port to listen on, idle_timeout and recv_size as for handle_new_connections_simple,
#            stage - 'simple' or a name in STAGES
# Return Value: None
# Assumptions: none
def start_server(port, idle_timeout, recv_size, stage='simple'):
    listen_socket = initialize_server_socket(port)
    # Lab addition: the start line once the socket listens (the lesson prints it before start_server(),
    # so there a failed bind follows it): the lab takes it as the sign that the server is up.
    print(f"Starting server on '{SERVER_NAME}' port {port}")
    if stage == 'simple':
        handle_new_connections_simple(listen_socket, idle_timeout, recv_size)
    else:
        STAGES[stage](listen_socket)


# stop sends SIGTERM's exit through Python's normal shutdown
# Lab addition: `make down` (docker stop) sends SIGTERM, which would otherwise kill Python outright
# (exit status 143, as for a crash); with this the server ends as a stopped program does, status 0.
def stop(signum, frame):
    sys.exit(0)


if __name__ == '__main__':
    # Lab addition: line-buffered output, so `docker logs` shows each line as it happens.
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, stop)
    try:
        port = parse_command_line_arguments(sys.argv[1:])
        idle_timeout = positive_setting('IDLE_TIMEOUT', IDLE_TIMEOUT, float)
        recv_size = positive_setting('RECV_SIZE', RECV_SIZE, int)
        if SERVER_STAGE != 'simple' and SERVER_STAGE not in STAGES:
            raise ConfigError('unknown stage {!r}: give simple or {}'.format(SERVER_STAGE, ', '.join(STAGES)))
        start_server(port, idle_timeout, recv_size, SERVER_STAGE)
    except ConfigError as error:
        sys.exit('ServerPython: error: {}'.format(error))
    except OSError as error:  # Lab addition: a port in use or refused is one line, not the lesson's traceback
        sys.exit('ServerPython: error: cannot listen on {} port {}: {}'.format(LISTEN_ADDRESS, port, error.strerror or error))
    except KeyboardInterrupt:  # Lab addition: Ctrl-C ends it quietly, status 0 (the lesson's shows a KeyboardInterrupt traceback)
        sys.exit(0)
