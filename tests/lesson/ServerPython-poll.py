import queue
import re
import select
import socket
import sys
import threading

SERVER_NAME = 'localhost'
SERVER_PORT = 12345
messageCounter = 0

def initialize_server_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((SERVER_NAME, SERVER_PORT))
    sock.listen(5)
    return sock

def handle_new_connections_simple(sock):
    def handle_client(conn):
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            conn.sendall(data)
        conn.close()

    while True:
        conn, addr = sock.accept()
        print("Received new connection from ", addr)
        handle_client(conn)

def handle_new_connections_threads(sock):
    def handle_client(conn):
        global messageCounter
        while True:
            data = conn.recv(1024)
            if not data:
                break
            print('Received:', data)
            nextCount = messageCounter + 1
            threading.Event().wait(0.1) # simulated latency
            messageCounter = nextCount
            print('Total messages received:', messageCounter)
            conn.sendall(data)
        conn.close()

    while True:
        conn, addr = sock.accept()
        print("Received new connection from ", addr)
        thread = threading.Thread(target=handle_client, args=(conn,))
        thread.start()

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
                    print("Received new connection from ", address)
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
                        poller.modify(s, select.POLLIN | select.POLLOUT)  # smallest fix: | (the code block has &)
                    else:
                        poller.unregister(s)
                        s.close()
                        del message_queues[s]
            if s is not sock and s not in message_queues:  # smallest fix: closed in the read step just above
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

def start_server():
    listen_socket = initialize_server_socket()
    #handle_new_connections_simple(listen_socket)
    #handle_new_connections_threads(listen_socket)
    handle_new_connections_poll(listen_socket)

def parse_command_line_arguments():
    port = SERVER_PORT

    # Check if -p parameter is provided
    if '-p' in sys.argv:
        index = sys.argv.index('-p')
        if index + 1 < len(sys.argv):
            port = int(sys.argv[index + 1])
            return port

    # Check if --port= parameter is provided
    for arg in sys.argv:
        match = re.match(r'--port=(\d+)', arg)
        if match:
            port = int(match.group(1))
            return port

    return port

SERVER_PORT = parse_command_line_arguments()
print(f"Starting server on '{SERVER_NAME}' port {SERVER_PORT}")
start_server()
