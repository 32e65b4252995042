import socket
import ssl

SERVER_NAME = 'localhost'
SERVER_PORT = 12345

# send_data_simple sends data on a specified socket, then returns once all data has been sent
# Arguments: sock - specifies the socket to send data on
# Return Value: None
# Assumptions: sock is a valid socket that is already created and connected
def send_data_simple(sock):
    sock.sendall(b'Hello, world')

def receive_data_simple(sock):
    data = sock.recv(1024)
    print('Received:', data)

def create_ssl_socket(sock):
    context = ssl.create_default_context()
    return context.wrap_socket(sock, server_hostname=SERVER_NAME)

def start_client_simple_ssl():
    with socket.create_connection((SERVER_NAME, SERVER_PORT)) as sock:
        with create_ssl_socket(sock) as ssock:
            send_data_simple(ssock)
            receive_data_simple(ssock)

print('Starting client...')
start_client_simple_ssl()
