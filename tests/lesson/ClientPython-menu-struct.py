import socket
import os
import re
import struct
import DataStructuresPython as ds

SERVER_NAME = 'localhost'
SERVER_PORT = 12345
QUERY_LOG_PATH = 'query_log.txt'
filterStack = ds.Stack()
FILTER_PATTERN = re.compile(r'([a-zA-Z ]+)([=<>!]+)([^,]+)')

class SERVER_COMMANDS:
    UPLOAD_CMD = 0x0001
    QUERY_CMD = 0x0002

def is_valid_ip(ip):
    # Check if it's a valid IPv4 address
    parts = ip.split('.')
    if len(parts) == 4:
        for part in parts:
            if not part.isdecimal() or not 0 <= int(part) <= 255:
                return False
        return True
    # Check if it's a valid IPv6 address
    try:
        socket.inet_pton(socket.AF_INET6, ip)
        return True
    except socket.error:
        return False

def load_file_data(file_path):
    logs = ds.PriorityQueue()
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
                    'dataSent' : int(parsedLine[4].strip()),
                    'dataReceived' : int(parsedLine[5].strip()),
                    'score' : float(parsedLine[6].strip()),
                    'server': parsedLine[7].strip()}
                if not is_valid_ip(logEntry['IP']):
                    raise Exception('Invalid IP: {}'.format(logEntry['IP']))
                logs.enqueue(logEntry, logEntry['accessTime'])
            except:
                print('Invalid log line: {}'.format(line))
    return logs

def save_last_query_action(query):
    # Check if the log file exists. If not, create it
    if not os.path.exists(QUERY_LOG_PATH):
        open(QUERY_LOG_PATH, 'w').close()
    with open(QUERY_LOG_PATH, 'r+') as file:
        first_line = file.readline()[len('Total filters: '):].strip()
        try:
            num_queries = int(first_line)
        except ValueError:
            num_queries = 0
        num_queries += 1
        file.seek(0)
        file.write(f'Total filters: {num_queries:<16}\n')
        file.seek(0, os.SEEK_END)
        file.write(query + '\n')
    # Print the new size of the file to console
    print(f"Updated query log. New size = {os.path.getsize(QUERY_LOG_PATH)} bytes")

def remove_last_query_action():
    with open(QUERY_LOG_PATH, 'r+') as file:
        lines = file.readlines()
        num_queries = int(lines[0][len('Total filters: '):].strip()) - 1
        lines = lines[:-1]
        lines[0] = f'Total filters: {num_queries:<16}\n'
        file.seek(0)
        file.writelines(lines)
        file.truncate()
        print(f"Updated query log. New size = {file.tell()} bytes")

def get_filter_string():
    print("Enter filter query as a string with fields separated by commas (i.e. username=Alice, score>4, score<9.5)")
    print("Valid fields: username (client's username), IP (client IP), server (server name/IP), port (server port), accessTime (as an integer), dataSent (bytes sent by client), dataReceived (bytes sent to client), score (floating point)")
    print("Valid operators: =, <, >, <=, >=, !=")
    filter = input('Enter filter: ')
    return filter

def apply_filter(results, filter_query):
    filters = FILTER_PATTERN.findall(filter_query)
    filtered_results = []
    for item in results:
        matchCount = len(filters)
        for field, operator, value in filters:
            field = field.strip()
            value = value.strip()
            if field not in item:
                raise ValueError("Field not found: {}".format(field))
            if isinstance(item[field], str):
                if operator == '=' and item[field] != value:
                    break
                elif operator == '!=' and item[field] == value:
                    break
            elif isinstance(item[field], (int, float)):
                value = float(value)
                if operator == '=' and item[field] != value:
                    break
                elif operator == '!=' and item[field] == value:
                    break
                elif operator == '<' and item[field] >= value:
                    break
                elif operator == '>' and item[field] <= value:
                    break
                elif operator == '<=' and item[field] > value:
                    break
                elif operator == '>=' and item[field] < value:
                    break
            else:
                raise ValueError("Invalid value type: {}".format(type(item[field])))
            matchCount -= 1
            if matchCount == 0:
                filtered_results.append(item)
    return filtered_results

def upload_logs(sock, logs):
    sock.sendall(struct.pack('!H', SERVER_COMMANDS.UPLOAD_CMD))  # smallest fix: struct, not sock.htons
    sock.sendall(struct.pack('!I', len(logs)))  # smallest fix
    while len(logs) > 0:
        logEntry = logs.dequeue()
        print('Uploading log entry: {}'.format(logEntry))
        send_log_entry(sock, logEntry)

def send_log_entry(sock, logEntry):
    username = logEntry['username'].encode('utf-8')
    ip = logEntry['IP'].encode('utf-8')
    server = logEntry['server'].encode('utf-8')
    format_string = '!HHH{}s{}s{}sHIIIf'.format(len(username), len(ip), len(server))
    data = struct.pack(format_string, len(username), len(ip), len(server), username, ip, server,
                       logEntry['port'], logEntry['accessTime'], logEntry['dataSent'],
                       logEntry['dataReceived'], logEntry['score'])
    sock.sendall(data)

def recv_all(sock, length):
    data = b''
    while len(data) < length:
        more = sock.recv(length - len(data))
        if not more:
            raise EOFError('Socket connection broken')
        data += more
    return data

def recv_log_entry(sock):
    lengths = recv_all(sock, struct.calcsize('!HHH'))
    username_len, ip_len, server_len = struct.unpack('!HHH', lengths)
    format_string = f'!{username_len}s{ip_len}s{server_len}sHIIIf'
    data = recv_all(sock, struct.calcsize(format_string))
    username, ip, server, port, accessTime, dataSent, dataReceived, score = struct.unpack(format_string, data)
    return {'username': username.decode('utf-8'), 'IP': ip.decode('utf-8'), 'port': port,
            'accessTime': accessTime, 'dataSent': dataSent, 'dataReceived': dataReceived,
            'score': score, 'server': server.decode('utf-8')}

def submit_query(sock, query):
    sock.sendall(struct.pack('!H', SERVER_COMMANDS.QUERY_CMD))  # smallest fix
    queryData = query.encode('utf-8')
    sock.sendall(struct.pack('!I', len(queryData)))  # smallest fix
    sock.sendall(queryData)
    count = struct.unpack('!I', recv_all(sock, 4))[0]  # smallest fix
    results = []
    for i in range(count):
        results.append(recv_log_entry(sock))
    return results

def do_menu(sock):
    curFilterString = ''
    curResults = []
    if os.path.exists(QUERY_LOG_PATH):
        os.remove(QUERY_LOG_PATH)

    while True:
        try:
            print('Connected to server {}:{}'.format(SERVER_NAME, SERVER_PORT))
            print('Last filter: {} matching {} results'.format(curFilterString,len(curResults)))
            print('Please choose an option:')
            print('1. Upload log file to server')
            print('2. Submit new query to server')
            print('3. Filter query results')
            print('4. Undo last query/filter')
            print('5. Display current query results')
            print('6. Clear all query results')
            print('7. Exit')
            choice = input('Enter choice: ')
            if choice.startswith('1'):
                file_path = input('Enter the path to the log file to upload: ')
                logs = load_file_data(file_path)
                print('Loaded {} log entries successfully'.format(len(logs)))
                if (len(logs) > 0):
                    # send logs to server
                    upload_logs(sock, logs)
            elif choice.startswith('2'):
                curFilterString = get_filter_string()
                curResults = submit_query(sock, curFilterString)
                filterStack.push((curResults, curFilterString))
                save_last_query_action(curFilterString)
            elif choice.startswith('3'):
                curFilterString = get_filter_string()
                curResults = apply_filter(curResults, curFilterString)
                filterStack.push((curResults, curFilterString))
                save_last_query_action(curFilterString)
            elif choice.startswith('4'):
                # undo last filter
                if len(filterStack) > 0:
                    filterStack.pop()
                    remove_last_query_action()
                    if len(filterStack) > 0:
                        curResults, curFilterString = filterStack.pop()
                        filterStack.push((curResults, curFilterString))
                    else:
                        curResults = []
                        curFilterString = ''
                else:
                    print('No filters to undo')
            elif choice.startswith('5'):
                # display results
                print('Current query results:')
                print(curResults)
            elif choice.startswith('6'):
                # delete log file
                os.remove(QUERY_LOG_PATH)
                filterStack.clear()
            elif choice.startswith('7'):
                return
            else:
                print('Invalid choice. Please try again.')
        except Exception as e:
            print('Error: {}'.format(e))

def start_client():
    with socket.create_connection((SERVER_NAME, SERVER_PORT)) as sock:
        do_menu(sock)

start_client()
