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
                print("Received new connection from ", address)
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
            if s not in message_queues:  # smallest fix: closed in the read step of this same pass
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
            if s not in message_queues:  # smallest fix: closed in the read step of this same pass
                continue
            inputs.remove(s)
            if s in outputs:
                outputs.remove(s)
            s.close()
            del message_queues[s]

def start_server():
    listen_socket = initialize_server_socket()
    #handle_new_connections_simple(listen_socket)
    #handle_new_connections_threads(listen_socket)
    handle_new_connections_select(listen_socket)

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
