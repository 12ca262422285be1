/* The floor, for `make bench`: a do-nothing request/response ping-pong with
 * the driver over loopback TCP, no HTTP. Connects to AWS_LAMBDA_RUNTIME_API
 * (numeric IPv4 host:port), says "R" once, then writes back whatever it reads
 * until the driver closes. Every timing in the report can be read against it. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 16];

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API"), *colon = api ? strrchr(api, ':') : NULL;
    char host[64];
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    ssize_t n;
    if (!colon || (size_t)(colon - api) >= sizeof host) return 1;
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (write(fd, "R", 1) != 1) return 1;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        char *p = buf;
        while (n > 0) {
            ssize_t w = write(fd, p, (size_t)n);
            if (w <= 0) return 1;
            p += w;
            n -= w;
        }
    }
    return 0;
}
