# Lab: the lab's reference server for lesson 7's binary protocol, which the lesson's client speaks and
# no lesson writes a server for (make lab SERVER=records). Its wire format is the one the client
# implies, every number big-endian (network order), strings UTF-8:
#   a command:  2 bytes, UPLOAD_CMD (0x0001) or QUERY_CMD (0x0002)
#   upload:     the command, a 4-byte count, then that many log entries; the server answers nothing
#   query:      the command, a 4-byte length, the filter text; the server answers a 4-byte count and
#               that many log entries, those of all uploads so far that the lesson's filter keeps
#   log entry:  three 2-byte lengths (username, IP, server), the three strings, then port (2 bytes),
#               accessTime, dataSent, dataReceived (4 bytes each) and score (a 4-byte float)
# A connection may send any number of commands, one after another, as the lesson's menu does.
import os
import re
import socket
import struct
import sys
import threading

SERVER_PORT = 12345
# The address to listen on: 'localhost' as the lessons' servers do; the lab's image gives 0.0.0.0
LISTEN_ADDRESS = os.environ.get('LISTEN_ADDRESS', 'localhost')
# Seconds a connection may stay silent before the server closes it
IDLE_TIMEOUT = float(os.environ.get('IDLE_TIMEOUT') or 300)
# Bounds on what its peers may make the server hold: entries and bytes stored in all, bytes of a
# filter, clients at once (the lab's container allows 64 processes and 128 MB)
MAX_ENTRIES = 100000
MAX_BYTES = 16 << 20
MAX_QUERY = 4096
MAX_CLIENTS = 32


class SERVER_COMMANDS:
    UPLOAD_CMD = 0x0001
    QUERY_CMD = 0x0002


# The log entries of every upload so far, their size in bytes, and the lock that guards them (one thread per client)
storedLogs = []
storedBytes = 0
storedLogsLock = threading.Lock()
# One place per client served at once
clientSlots = threading.BoundedSemaphore(MAX_CLIENTS)

# The lesson's filter: (field, operator, value) triples, e.g. from 'username=Alice, score>4'
FILTER_PATTERN = re.compile(r'([a-zA-Z ]+)([=<>!]+)([^,]+)')


# apply_filter keeps the entries that pass every test of a filter, as lesson 7's client filters them
# Arguments: results - a list of log entries (dicts), filter_query - the filter text
# Return Value: the entries that pass
# Assumptions: ValueError for a field no entry has, or a value that is no number where one is needed.
#              The lesson's own rules hold: a filter with no test keeps nothing; an operator it does not
#              know (==) rejects nothing; field names are case-sensitive (IP, not ip).
def apply_filter(results, filter_query):
    filters = FILTER_PATTERN.findall(filter_query)
    filtered = []
    for item in results:
        matchCount = len(filters)
        for field, operator, value in filters:
            field, value = field.strip(), value.strip()
            if field not in item:
                raise ValueError('Field not found: {}'.format(field))
            itemValue = item[field]
            if isinstance(itemValue, str):
                if (operator == '=' and itemValue != value) or (operator == '!=' and itemValue == value):
                    break
            elif isinstance(itemValue, (int, float)):
                number = float(value)
                passes = {'=': itemValue == number, '!=': itemValue != number, '<': itemValue < number,
                          '>': itemValue > number, '<=': itemValue <= number, '>=': itemValue >= number}
                if not passes.get(operator, True):
                    break
            else:
                raise ValueError('Invalid value type: {}'.format(type(itemValue)))
            matchCount -= 1
            if matchCount == 0:
                filtered.append(item)
    return filtered


# recv_all receives exactly length bytes
# Arguments: sock - a connected socket, length - how many bytes
# Return Value: the bytes
# Assumptions: EOFError when the peer closes first
def recv_all(sock, length):
    data = b''
    while len(data) < length:
        more = sock.recv(length - len(data))
        if not more:
            raise EOFError('Socket connection broken')
        data += more
    return data


# recv_log_entry receives one log entry in the wire format above
# Arguments: sock - a connected socket
# Return Value: the entry as a dict, with the fields of the lesson's log entries
# Assumptions: EOFError when the peer closes mid-entry; UnicodeDecodeError for text that is not UTF-8
def recv_log_entry(sock):
    username_len, ip_len, server_len = struct.unpack('!HHH', recv_all(sock, struct.calcsize('!HHH')))
    entry_format = '!{}s{}s{}sHIIIf'.format(username_len, ip_len, server_len)
    username, ip, server, port, accessTime, dataSent, dataReceived, score = struct.unpack(
        entry_format, recv_all(sock, struct.calcsize(entry_format)))
    return {'username': username.decode('utf-8'), 'IP': ip.decode('utf-8'), 'port': port, 'accessTime': accessTime,
            'dataSent': dataSent, 'dataReceived': dataReceived, 'score': score, 'server': server.decode('utf-8')}


# send_log_entry sends one log entry in the wire format above, in one sendall
# Arguments: sock - a connected socket, logEntry - a dict with the fields of the lesson's log entries
# Return Value: None
# Assumptions: the entry came from recv_log_entry (its numbers fit their fields)
def send_log_entry(sock, logEntry):
    username, ip, server = (logEntry[key].encode('utf-8') for key in ('username', 'IP', 'server'))
    entry_format = '!HHH{}s{}s{}sHIIIf'.format(len(username), len(ip), len(server))
    sock.sendall(struct.pack(entry_format, len(username), len(ip), len(server), username, ip, server, logEntry['port'],
                             logEntry['accessTime'], logEntry['dataSent'], logEntry['dataReceived'], logEntry['score']))


# entry_size is how many bytes a log entry takes on the wire
def entry_size(logEntry):
    return struct.calcsize('!HHHHIIIf') + sum(len(logEntry[key].encode('utf-8')) for key in ('username', 'IP', 'server'))


# handle_upload receives an upload's entries and stores them, all or none
# Arguments: sock - the client's socket, address - its address, for the server's lines
# Return Value: True when the upload arrived whole, False when the client closed before its last entry
# Assumptions: the command has been read
def handle_upload(sock, address):
    count, = struct.unpack('!I', recv_all(sock, 4))
    if count > MAX_ENTRIES:
        raise ValueError('an upload of {} log entries announced, more than the {} this server keeps'.format(count, MAX_ENTRIES))
    print('Upload from {}: {} log entries announced'.format(address, count))
    logs, size = [], 0
    try:
        for _ in range(count):
            logs.append(recv_log_entry(sock))
            size += entry_size(logs[-1])
            if size > MAX_BYTES:
                raise ValueError('an upload past {} bytes: none stored'.format(MAX_BYTES))
    except EOFError:
        print('Upload from {} ended after {} of {} log entries: none stored'.format(address, len(logs), count))
        return False
    global storedBytes
    with storedLogsLock:
        if len(storedLogs) + count > MAX_ENTRIES or storedBytes + size > MAX_BYTES:
            raise ValueError('the server holds {} log entries ({} bytes) already: none stored'.format(len(storedLogs), storedBytes))
        storedLogs.extend(logs)
        storedBytes += size
        total = len(storedLogs)
    print('Stored {} log entries from {} ({} in all)'.format(count, address, total))
    return True


# handle_query answers a query with the stored entries its filter keeps
# Arguments: sock - the client's socket, address - its address, for the server's lines
# Return Value: None
# Assumptions: the command has been read
def handle_query(sock, address):
    length, = struct.unpack('!I', recv_all(sock, 4))
    if length > MAX_QUERY:
        raise ValueError('a filter of {} bytes announced, more than {}'.format(length, MAX_QUERY))
    query = recv_all(sock, length).decode('utf-8', errors='replace')
    with storedLogsLock:
        logs = list(storedLogs)
    try:
        results = apply_filter(logs, query)
        print('Query from {}: {!r} keeps {} of {} log entries'.format(address, query, len(results), len(logs)))
    except ValueError as error:
        results = []
        print('Query from {}: {!r}: {}: 0 log entries sent'.format(address, query, error))
    sock.sendall(struct.pack('!I', len(results)))
    for logEntry in results:
        send_log_entry(sock, logEntry)


# handle_client serves one client's commands until it closes the connection
# Arguments: sock - the client's socket, address - its address
# Return Value: None
# Assumptions: runs in a thread of its own; ends the connection on anything but the protocol
def handle_client(sock, address):
    with sock:
        sock.settimeout(IDLE_TIMEOUT)
        try:
            while True:
                command = sock.recv(2)
                if not command:
                    print('Connection from {} closed'.format(address))
                    return
                if len(command) < 2:
                    command += recv_all(sock, 1)
                command, = struct.unpack('!H', command)
                if command == SERVER_COMMANDS.UPLOAD_CMD:
                    if not handle_upload(sock, address):
                        return
                elif command == SERVER_COMMANDS.QUERY_CMD:
                    handle_query(sock, address)
                else:
                    print('Unknown command 0x{:04x} from {}: closing the connection'.format(command, address))
                    return
        except EOFError:
            print('Connection from {} closed mid-command'.format(address))
        except socket.timeout:
            print('Connection from {} silent for {:g} s: closed'.format(address, IDLE_TIMEOUT))
        except (OSError, ValueError) as error:
            print('Connection from {}: {}: closed'.format(address, error))


# start_server listens for clients and serves each in a thread of its own
# Arguments: port - the TCP port to listen on
# Return Value: None (runs until stopped)
# Assumptions: none
def start_server(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LISTEN_ADDRESS, port))
        sock.listen()
        print('Starting record server on port {}'.format(port))
        while True:
            conn, address = sock.accept()
            if not clientSlots.acquire(blocking=False):
                print('Connection from {}: {} clients at once already: closed'.format(address, MAX_CLIENTS))
                conn.close()
                continue
            print('Connection from {}'.format(address))
            threading.Thread(target=serve_one, args=(conn, address), daemon=True).start()


# serve_one serves one client in its own thread, then gives its place back
def serve_one(conn, address):
    try:
        handle_client(conn, address)
    finally:
        clientSlots.release()


# parse_command_line_arguments reads the port the lab gives (--port=N or -p N), as the lessons' server does
def parse_command_line_arguments(args):
    port = SERVER_PORT
    for i, arg in enumerate(args):
        text = arg[len('--port='):] if arg.startswith('--port=') else args[i + 1] if arg == '-p' and i + 1 < len(args) else None
        if text is not None:
            if not text.isdigit() or not 1 <= int(text) <= 65535:
                sys.exit('RecordServer: error: bad port {!r}: give a number from 1 to 65535'.format(text))
            port = int(text)
    return port


if __name__ == '__main__':
    sys.stdout.reconfigure(line_buffering=True)
    port = parse_command_line_arguments(sys.argv[1:])
    try:
        start_server(port)
    except OSError as error:
        sys.exit('RecordServer: error: port {}: {}'.format(port, error.strerror or error))
    except KeyboardInterrupt:
        pass
