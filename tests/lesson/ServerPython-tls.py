import re
import socket
import ssl
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

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

class SSLContextSingleton:
    _instance = None

    def __new__(cls, *args, **kwargs):
        if cls._instance is None:
            cls._instance = super().__new__(cls, *args, **kwargs)
            cls._instance.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cls._instance.context.load_cert_chain(certfile="server.crt", keyfile="server.key")
        return cls._instance

def setup_ssl(sock):
    context = SSLContextSingleton().context
    return context.wrap_socket(sock, server_side=True)

def handle_new_connections_thread_pool(sock):
    global messageCounter
    messageCounter = []

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
                conn, addr = sock.accept()
                print("Received new connection from ", addr)
                conn = setup_ssl(conn)
                pool.submit(handle_client, conn)
        except:
            print("Shutting down gracefully...")

def start_server():
    listen_socket = initialize_server_socket()
    #handle_new_connections_simple(listen_socket)
    #handle_new_connections_threads(listen_socket)
    handle_new_connections_thread_pool(listen_socket)

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
