#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#define BUFFER_SIZE 1024
#define SERVER_PORT 12345

char* gFilePath = NULL;
int gNetworkPort = SERVER_PORT;

// Lab: prototypes first, as lesson 8 recommends: the lesson writes handle_new_connections before the
// handlers it calls, which gcc 12 only warns about and clang refuses (see the lab's README).
void variable_test(void);
int initialize_server_socket();
void handle_new_connections(int server_socket);
void handle_client(int client_socket);
void handle_client_udp(int client_socket);

// variable_test prints the globals (lesson 8)
// Arguments: none
// Return Value: none
// Assumptions: none
void variable_test(void)
{
    printf("gFilePath: %s\n", gFilePath ? gFilePath : "(null)");
    printf("gNetworkPort: %d\n", gNetworkPort);
}

// initialize_server_socket creates the listening TCP socket on every interface
// Arguments: none
// Return Value: the listening socket; the program exits if it cannot be made
// Assumptions: gNetworkPort holds the port to listen on
int initialize_server_socket()
{
    int server_socket = socket(AF_INET, SOCK_STREAM, 0);
    if (server_socket == -1)
    {
        perror("Failed to create socket");
        exit(1);
    }

    struct sockaddr_in server_address;
    server_address.sin_family = AF_INET;
    server_address.sin_addr.s_addr = INADDR_ANY;
    server_address.sin_port = htons(gNetworkPort);

    if (bind(server_socket, (struct sockaddr*)&server_address, sizeof(server_address)) == -1)
    {
        perror("Failed to bind socket");
        exit(1);
    }

    if (listen(server_socket, 5) == -1)
    {
        perror("Failed to listen for connections");
        exit(1);
    }

    printf("Server socket initialized and listening on port %d\n", gNetworkPort);
    return server_socket;
}

// handle_client receives one message from a client, prints it, sends it back and closes the connection
// Arguments: client_socket - a connection accept() returned
// Return Value: none
// Assumptions: the client sends its message in one piece (one recv per connection)
void handle_client(int client_socket)
{
    char buffer[BUFFER_SIZE];
    int bytes_received = recv(client_socket, buffer, BUFFER_SIZE, 0);
    if (bytes_received < 0)
    {
        perror("Failed to receive data");
        return;
    }

    // Lab: %.*s prints exactly the bytes received: recv() does not end them with a NUL, so the lesson's
    // %s prints whatever follows them in the buffer too (stack bytes, the rest of a longer message).
    printf("Received message: %.*s\n", bytes_received, buffer);

    int bytes_sent = send(client_socket, buffer, bytes_received, 0);
    if (bytes_sent < 0)
    {
        perror("Failed to send response");
        return;
    }

    close(client_socket);
}

// handle_client_udp receives one datagram, prints it and sends it back to its sender (the UDP step)
// Arguments: client_socket - the bound UDP socket
// Return Value: none
// Assumptions: none
void handle_client_udp(int client_socket)
{
    char buffer[BUFFER_SIZE];
    struct sockaddr_in client_address;
    socklen_t client_len = sizeof(client_address);

    int bytes_received = recvfrom(client_socket, buffer, BUFFER_SIZE, 0, (struct sockaddr*)&client_address, &client_len);
    if (bytes_received < 0)
    {
        perror("Failed to receive data");
        return;
    }

    printf("Received message: %.*s\n", bytes_received, buffer);
    sendto(client_socket, buffer, bytes_received, 0, (struct sockaddr*)&client_address, client_len);
}

// handle_new_connections accepts clients one at a time and handles each
// Arguments: server_socket - the listening socket
// Return Value: none (it runs until the program is stopped)
// Assumptions: server_socket is bound and listening
void handle_new_connections(int server_socket)
{
    struct sockaddr_in client_address;
    socklen_t client_len = sizeof(client_address);

    while (1)
    {
        int client_socket = accept(server_socket, (struct sockaddr *)&client_address, &client_len);
        if (client_socket == -1)
        {
            perror("Failed to accept client connection");
            continue;
        }

        handle_client(client_socket);
    }
}

int main(int argc, char* argv[])
{
    int listen_socket;

    /* variable_test(); */

    listen_socket = initialize_server_socket();
    handle_new_connections(listen_socket);
    return 0;
}
