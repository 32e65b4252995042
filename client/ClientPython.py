import argparse
import os
import socket
import ssl
import sys

# Lab addition: the lesson's globals, taken from environment variables of the same names when set,
# so the same file talks to the server container, the netcat container or localhost (a port that is
# no number is refused in one line when the program starts: parse_command_line_arguments).
SERVER_NAME = os.environ.get('SERVER_NAME', 'localhost')
SERVER_PORT = int(os.environ['SERVER_PORT']) if os.environ.get('SERVER_PORT', '').isdigit() else 12345

# Lab addition: seconds to wait for a reply (or a connection) before giving up with a clear line.
TIMEOUT = 30.0

# Lab addition: when True, send_data_simple sends a str, the mistake the lesson warns about.
SEND_STR = False

# Lab addition: lesson 7's two ways past the certificate check: CHECK_CERTIFICATE = False switches it
# off as the lesson does; TRUST_CA names a CA to trust (the lab's: /tls/ca.crt), the way it only names.
CHECK_CERTIFICATE = True
TRUST_CA = None


# send_data_simple sends data on a specified socket, then returns once all data has been sent
# Arguments: sock - specifies the socket to send data on
# Return Value: None
# Assumptions: sock is a valid socket that is already created and connected
def send_data_simple(sock):
    if SEND_STR:
        sock.sendall('Hello, world')
    sock.sendall(b'Hello, world')


# receive_data_simple receives data on a specified socket and prints it
# Arguments: sock - specifies the socket to receive data on
# Return Value: None
# Assumptions: sock is a valid socket that is already created and connected
def receive_data_simple(sock):
    data = sock.recv(1024)
    print('Received:', data)


# start_client_simple connects to the server over TCP, sends a message and prints the reply
# Arguments: None
# Return Value: None
# Assumptions: a TCP server is listening on SERVER_NAME port SERVER_PORT
def start_client_simple():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.connect((SERVER_NAME, SERVER_PORT))
    send_data_simple(sock)
    receive_data_simple(sock)
    sock.close()


# send_data_simple_udp sends data to the server in one UDP datagram
# Arguments: sock - specifies the UDP socket to send data on
# Return Value: None
# Assumptions: sock is a valid UDP socket
def send_data_simple_udp(sock):
    if SEND_STR:
        sock.sendto('Hello, world', (SERVER_NAME, SERVER_PORT))
    sock.sendto(b'Hello, world', (SERVER_NAME, SERVER_PORT))


# receive_data_simple_udp receives one UDP datagram and prints it with its sender's address
# Arguments: sock - specifies the UDP socket to receive data on
# Return Value: None
# Assumptions: sock is a valid UDP socket that has already sent data (so it has a port)
def receive_data_simple_udp(sock):
    data, address = sock.recvfrom(1024)
    print('Received (from {}):'.format(address), data)


# start_client_simple_udp sends a message over UDP and prints the reply
# Arguments: None
# Return Value: None
# Assumptions: something answers UDP datagrams on SERVER_NAME port SERVER_PORT (e.g. nc -l -u 12345)
def start_client_simple_udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(TIMEOUT)
    send_data_simple_udp(sock)
    receive_data_simple_udp(sock)
    sock.close()


# create_ssl_socket wraps a connected TCP socket in TLS, checking the server's certificate
# Arguments: sock - a TCP socket, already connected to the server
# Return Value: the wrapped socket, to use in place of sock
# Assumptions: the server speaks TLS; if its certificate is not trusted, ssl.SSLCertVerificationError
def create_ssl_socket(sock):
    context = ssl.create_default_context()
    if TRUST_CA:
        context.load_verify_locations(TRUST_CA)
    if not CHECK_CERTIFICATE:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(sock, server_hostname=SERVER_NAME)


# start_client_simple_ssl connects to the server over TLS, sends a message and prints the reply
# Arguments: None
# Return Value: None
# Assumptions: a TLS server is listening on SERVER_NAME port SERVER_PORT
def start_client_simple_ssl():
    with socket.create_connection((SERVER_NAME, SERVER_PORT), timeout=TIMEOUT) as sock:
        with create_ssl_socket(sock) as ssock:
            send_data_simple(ssock)
            receive_data_simple(ssock)


# port_number turns the text of a port into a number
# Arguments: text - the port as a string, e.g. '12345'
# Return Value: the port as an int
# Assumptions: none; anything but a number from 1 to 65535 raises argparse.ArgumentTypeError
def port_number(text):
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError('bad port {!r}: give a number from 1 to 65535'.format(text))
    return port


# positive_seconds turns the text of a timeout into a number of seconds
# Arguments: text - the timeout as a string, e.g. '30'
# Return Value: the timeout as a float
# Assumptions: none; anything but a number of seconds from 0 to a day (inf and nan are not) raises
#              argparse.ArgumentTypeError
def positive_seconds(text):
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 86400:
        raise argparse.ArgumentTypeError('bad timeout {!r}: give a number of seconds, at most 86400'.format(text))
    return seconds


# OneLineParser is argparse's parser, with errors said in one line instead of usage plus error
class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, '{}: error: {}\n'.format(self.prog, message))


# parse_command_line_arguments reads the lab's flags
# Arguments: args - the command line arguments, without the program name
# Return Value: the parsed flags (host, port, udp, timeout, send_str, tls, no_check, ca)
# Assumptions: none; bad values end the program with one line on stderr and exit code 2
def parse_command_line_arguments(args):
    parser = OneLineParser(prog='ClientPython', description="The lesson's TCP/UDP client.")
    parser.add_argument('--host', default=SERVER_NAME, help='server name or address (default: $SERVER_NAME or localhost)')
    parser.add_argument('--port', default=os.environ.get('SERVER_PORT', str(SERVER_PORT)), type=port_number, help='server port (default: $SERVER_PORT or 12345)')
    parser.add_argument('--udp', action='store_true', help='run the UDP stage (start_client_simple_udp)')
    parser.add_argument('--timeout', default=TIMEOUT, type=positive_seconds, help='seconds to wait for a reply (default: 30)')
    parser.add_argument('--send-str', action='store_true', help="make the lesson's mistake: send a str, not bytes")
    parser.add_argument('--tls', action='store_true', help="lesson 7: over TLS (start_client_simple_ssl)")
    parser.add_argument('--no-check', action='store_true', help="lesson 7's next step: switch the certificate check off")
    parser.add_argument('--ca', action='store_true', help="trust the lab's CA (/tls/ca.crt), the check left on")
    return parser.parse_args(args)


# describe_error turns a socket error into the one line a learner needs
# Arguments: error - the exception raised, udp - True in the UDP stage
# Return Value: the message, without the program name
# Assumptions: none
def describe_error(error, udp):
    where = '{} port {}'.format(SERVER_NAME, SERVER_PORT)
    if isinstance(error, ssl.SSLCertVerificationError):
        return ("the server's certificate is not trusted: {}: trust the lab's CA (--ca, with make lab "
                "STAGE=tls), or switch the check off as the lesson does next (--no-check)".format(error.verify_message))
    if isinstance(error, ssl.SSLError):
        return 'TLS with {} failed: {} (does it speak TLS? make lab STAGE=tls)'.format(where, error.reason or error)
    if isinstance(error, socket.gaierror):
        return 'unknown host {!r}: the name does not resolve'.format(SERVER_NAME)
    if isinstance(error, ConnectionRefusedError):
        return 'connection to {} refused: is the server running?'.format(where)
    if isinstance(error, socket.timeout) and udp:
        return ('no UDP reply from {} within {:g} s: UDP does not guarantee delivery, '
                'so a reply may never arrive'.format(where, TIMEOUT))
    if isinstance(error, socket.timeout):
        return 'no answer from {} within {:g} s'.format(where, TIMEOUT)
    return 'connection to {} failed: {}'.format(where, error.strerror or error)


if __name__ == '__main__':
    # Lab addition: line-buffered output, so each line shows as it happens, also in `docker logs`.
    sys.stdout.reconfigure(line_buffering=True)
    flags = parse_command_line_arguments(sys.argv[1:])
    SERVER_NAME, SERVER_PORT, TIMEOUT, SEND_STR = flags.host, flags.port, flags.timeout, flags.send_str
    CHECK_CERTIFICATE, TRUST_CA = not flags.no_check, '/tls/ca.crt' if flags.ca else None
    print('Starting client...')
    # Lab addition: errors end the client with one line on stderr and a non-zero exit, no traceback.
    try:
        if flags.udp:
            start_client_simple_udp()
        elif flags.tls:
            start_client_simple_ssl()
        else:
            start_client_simple()
    except TypeError as error:
        sys.exit('TypeError: {}'.format(error))
    except OSError as error:
        sys.exit('ClientPython: error: {}'.format(describe_error(error, flags.udp)))
    except KeyboardInterrupt:
        sys.exit(130)
