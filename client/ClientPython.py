import argparse
import os
import socket
import ssl
import struct
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


# Lesson 7's binary protocol: the commands the client sends, each as 2 bytes in network order
class SERVER_COMMANDS:
    UPLOAD_CMD = 0x0001
    QUERY_CMD = 0x0002


# is_valid_ip checks that a string is an IPv4 or IPv6 address
# Arguments: ip - the string
# Return Value: True or False
# Assumptions: none
def is_valid_ip(ip):
    parts = ip.split('.')
    if len(parts) == 4:
        return all(part.isdecimal() and 0 <= int(part) <= 255 for part in parts)
    try:
        socket.inet_pton(socket.AF_INET6, ip)
        return True
    except OSError:
        return False


# load_file_data reads a network log file (lesson 6): one entry per line, 8 comma-separated fields
# Arguments: file_path - the path of the log file
# Return Value: the valid entries as dicts, newest accessTime first
# Assumptions: the file exists (OSError otherwise); an invalid line is said and skipped
def load_file_data(file_path):
    logs = []
    with open(file_path, 'r') as file:
        for line in file:
            try:
                parsedLine = line.split(',')
                if len(parsedLine) != 8:
                    raise Exception("Wrong number of elements in log entry")
                logEntry = {'username': parsedLine[0].strip(),
                    'IP': parsedLine[1].strip(),
                    'port': int(parsedLine[2].strip()),
                    'accessTime': int(parsedLine[3].strip()),
                    'dataSent': int(parsedLine[4].strip()),
                    'dataReceived': int(parsedLine[5].strip()),
                    'score': float(parsedLine[6].strip()),
                    'server': parsedLine[7].strip()}
                if not is_valid_ip(logEntry['IP']):
                    raise Exception('Invalid IP: {}'.format(logEntry['IP']))
                logs.append(logEntry)
            except Exception:
                print('Invalid log line: {}'.format(line))
    # Lab: a list in lesson 5's PriorityQueue order (highest accessTime first, ties as they came), so this file runs on its own
    return sorted(logs, key=lambda logEntry: logEntry['accessTime'], reverse=True)


# upload_logs sends log entries to the server: the command, their count, then each entry
# Arguments: sock - a socket connected to the server, logs - the entries, in the order to send them
# Return Value: None
# Assumptions: the server speaks lesson 7's protocol (make lab SERVER=records)
def upload_logs(sock, logs):
    # Lab: struct.pack in network order, where the lesson calls sock.htons and sock.htonl, which sockets do not have
    sock.sendall(struct.pack('!H', SERVER_COMMANDS.UPLOAD_CMD))
    sock.sendall(struct.pack('!I', len(logs)))
    while len(logs) > 0:
        logEntry = logs.pop(0)
        print('Uploading log entry: {}'.format(logEntry))
        send_log_entry(sock, logEntry)


# send_log_entry sends one log entry: three string lengths, the strings, then its numbers, in one sendall
# Arguments: sock - a socket connected to the server, logEntry - the entry (a dict)
# Return Value: None
# Assumptions: its numbers fit their fields (port 2 bytes, times and sizes 4, score a 4-byte float)
def send_log_entry(sock, logEntry):
    username = logEntry['username'].encode('utf-8')
    ip = logEntry['IP'].encode('utf-8')
    server = logEntry['server'].encode('utf-8')
    entry_format = '!HHH{}s{}s{}sHIIIf'.format(len(username), len(ip), len(server))
    sock.sendall(struct.pack(entry_format, len(username), len(ip), len(server), username, ip, server,
                             logEntry['port'], logEntry['accessTime'], logEntry['dataSent'],
                             logEntry['dataReceived'], logEntry['score']))


# recv_all receives exactly length bytes
# Arguments: sock - a connected socket, length - how many bytes
# Return Value: the bytes
# Assumptions: EOFError when the server closes first
def recv_all(sock, length):
    data = b''
    while len(data) < length:
        more = sock.recv(length - len(data))
        if not more:
            raise EOFError('Socket connection broken')
        data += more
    return data


# recv_log_entry receives one log entry, as send_log_entry sends it
# Arguments: sock - a connected socket
# Return Value: the entry as a dict
# Assumptions: EOFError when the server closes mid-entry
def recv_log_entry(sock):
    username_len, ip_len, server_len = struct.unpack('!HHH', recv_all(sock, struct.calcsize('!HHH')))
    entry_format = f'!{username_len}s{ip_len}s{server_len}sHIIIf'
    username, ip, server, port, accessTime, dataSent, dataReceived, score = struct.unpack(
        entry_format, recv_all(sock, struct.calcsize(entry_format)))
    return {'username': username.decode('utf-8'), 'IP': ip.decode('utf-8'), 'port': port,
            'accessTime': accessTime, 'dataSent': dataSent, 'dataReceived': dataReceived, 'score': score,
            'server': server.decode('utf-8')}


# submit_query sends a filter to the server and receives the log entries it keeps
# Arguments: sock - a socket connected to the server, query - the filter text, e.g. 'username=Alice'
# Return Value: the entries, as a list of dicts
# Assumptions: the server speaks lesson 7's protocol
def submit_query(sock, query):
    queryData = query.encode('utf-8')
    # Lab: struct.pack and struct.unpack in network order, where the lesson calls sock.htons, sock.htonl and sock.ntohl
    sock.sendall(struct.pack('!H', SERVER_COMMANDS.QUERY_CMD))
    sock.sendall(struct.pack('!I', len(queryData)))
    sock.sendall(queryData)
    count = struct.unpack('!I', recv_all(sock, 4))[0]
    return [recv_log_entry(sock) for _ in range(count)]


# start_client_upload uploads a log file to the server (lesson 7's menu choice 1)
# Arguments: file_path - the log file
# Return Value: None
# Assumptions: a server of lesson 7's protocol listens on SERVER_NAME port SERVER_PORT
def start_client_upload(file_path):
    logs = load_file_data(file_path)
    print('Loaded {} log entries successfully'.format(len(logs)))
    with socket.create_connection((SERVER_NAME, SERVER_PORT), timeout=TIMEOUT) as sock:
        upload_logs(sock, logs)


# start_client_query asks the server for the log entries a filter keeps (lesson 7's menu choice 2)
# Arguments: query - the filter text
# Return Value: None
# Assumptions: a server of lesson 7's protocol listens on SERVER_NAME port SERVER_PORT
def start_client_query(query):
    with socket.create_connection((SERVER_NAME, SERVER_PORT), timeout=TIMEOUT) as sock:
        results = submit_query(sock, query)
    print('Filter: {} matching {} results'.format(query, len(results)))
    for logEntry in results:
        print('Received log entry: {}'.format(logEntry))


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
# Return Value: the parsed flags (host, port, udp, timeout, send_str, tls, no_check, ca, upload, query)
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
    parser.add_argument('--upload', metavar='FILE', help="lesson 7: upload a log file (make lab SERVER=records)")
    parser.add_argument('--query', metavar='FILTER', help="lesson 7: ask for the entries a filter keeps, e.g. 'username=Alice'")
    return parser.parse_args(args)


# describe_error turns a socket error into the one line a learner needs
# Arguments: error - the exception raised, udp - True in the UDP stage
# Return Value: the message, without the program name
# Assumptions: none
def describe_error(error, udp):
    where = '{} port {}'.format(SERVER_NAME, SERVER_PORT)
    if isinstance(error, FileNotFoundError):
        return 'no log file {!r} (the lesson\'s is test.log, beside this file)'.format(error.filename)
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
        elif flags.upload is not None:
            start_client_upload(flags.upload)
        elif flags.query is not None:
            start_client_query(flags.query)
        else:
            start_client_simple()
    except TypeError as error:
        sys.exit('TypeError: {}'.format(error))
    except OSError as error:
        sys.exit('ClientPython: error: {}'.format(describe_error(error, flags.udp)))
    except EOFError:
        sys.exit('ClientPython: error: {} port {} closed the connection mid-answer: does it speak lesson 7\'s protocol? '
                 '(make lab SERVER=records)'.format(SERVER_NAME, SERVER_PORT))
    except KeyboardInterrupt:
        sys.exit(130)
