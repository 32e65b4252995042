#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define BUFFER_SIZE 1024
#define SERVER_PORT 12345

char* gFilePath = NULL;
int gNetworkPort = SERVER_PORT;

void variable_test(void);

void variable_test(void)
{
    printf("gFilePath: %s\n", gFilePath);
    printf("gNetworkPort: %d\n", gNetworkPort);
}

int initialize_server_socket()
{
    int server_socket = socket(AF_INET, SOCK_DGRAM, 0);
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

    printf("Server socket initialized and listening on port %d\n", gNetworkPort);
    return server_socket;
}

void handle_new_connections(int server_socket)
{
    while (1)
    {
        handle_client_udp(server_socket);
    }
}

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

    printf("Received message: %s\n", buffer);

    int bytes_sent = sendto(client_socket, buffer, bytes_received, 0, (struct sockaddr*)&client_address, client_len);
}

int main(int argc, char* argv[])
{
    int listen_socket;

    /* variable_test(); */

    listen_socket = initialize_server_socket();
    handle_new_connections(listen_socket);
    return 0;
}
