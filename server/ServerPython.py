import os
import re
import signal
import socket
import sys

SERVER_NAME = 'localhost'
SERVER_PORT = 12345

# Lab addition: the address the listening socket binds. Other containers cannot reach 'localhost',
# so the lab sets LISTEN_ADDRESS=0.0.0.0; the start line still names SERVER_NAME, as in the lesson.
LISTEN_ADDRESS = os.environ.get('LISTEN_ADDRESS', SERVER_NAME)

# Lab addition: seconds a connected client may stay silent before the server closes it, so one
# silent client cannot keep the others waiting forever (one client at a time, as in the lesson).
IDLE_TIMEOUT = os.environ.get('IDLE_TIMEOUT', '300')

# Lab addition: how many bytes each recv() asks for. The lesson uses 1024 and calls it a trade-off;
# RECV_SIZE lets `make bench` run that experiment. Nothing else changes with it.
RECV_SIZE = os.environ.get('RECV_SIZE', '1024')


# Lab addition: a bad command line or setting ends the program with one clear line, no traceback.
class ConfigError(Exception):
    pass


# parse_command_line_arguments reads the port from the command line
# Arguments: args - the command line arguments, without the program name
# Return Value: the port number to listen on (SERVER_PORT if none is given)
# Assumptions: ports are given as -p PORT or --port=PORT; a -p with nothing after it is ignored
def parse_command_line_arguments(args):
    port = SERVER_PORT
    i = 0
    while i < len(args):
        arg = args[i]
        match = re.match(r'--port=(\d+)', arg)
        if arg == '-p':
            if i + 1 < len(args):
                port = parse_port(args[i + 1])
                i += 1
        elif match and match.group(0) == arg:
            port = parse_port(match.group(1))
        elif arg.startswith('--port='):
            raise ConfigError('bad port {!r}: give a number from 1 to 65535'.format(arg[len('--port='):]))
        else:
            raise ConfigError('unknown argument {!r}: use -p PORT or --port=PORT'.format(arg))
        i += 1
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
# Assumptions: none; anything but a positive number raises ConfigError
def positive_setting(name, text, kind):
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if not value > 0:
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
            print('Closed idle connection from ', address, 'after', format_seconds(idle_timeout), 's')
        except OSError as error:
            print('Connection from ', address, 'lost:', error.strerror or error)
        finally:
            conn.close()


# format_seconds prints 2.0 as 2 and 0.5 as 0.5
# Arguments: seconds - a float
# Return Value: the shortest text for it
# Assumptions: none
def format_seconds(seconds):
    return '{:g}'.format(seconds)


# start_server sets up the listening socket and serves clients
# Arguments: port - the TCP port to listen on, idle_timeout and recv_size as for handle_new_connections_simple
# Return Value: None
# Assumptions: none
def start_server(port, idle_timeout, recv_size):
    listen_socket = initialize_server_socket(port)
    print(f"Starting server on '{SERVER_NAME}' port {port}")
    handle_new_connections_simple(listen_socket, idle_timeout, recv_size)


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
        start_server(port, idle_timeout, recv_size)
    except ConfigError as error:
        sys.exit('ServerPython: error: {}'.format(error))
    except OSError as error:
        sys.exit('ServerPython: error: cannot listen on {} port {}: {}'.format(LISTEN_ADDRESS, port, error.strerror or error))
    except KeyboardInterrupt:
        sys.exit(0)
