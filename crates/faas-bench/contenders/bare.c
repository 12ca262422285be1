/* The smallest C runtime, for `make bench`: a bare Runtime API loop with one
 * blocking, kept-alive socket. GET /next, POST /response with the event
 * unchanged (head and body in one writev), repeat. No chunked bodies, no
 * /error, no retries: it is the floor for a real HTTP runtime, not a runtime.
 * AWS_LAMBDA_RUNTIME_API must be a numeric IPv4 host:port. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char in[1 << 20], head[512];

/* Reads one HTTP message into `in`; returns the body, its length in *len and
 * the request id (if any) in id. Exits on any failure. */
static char *message(int fd, size_t *len, char *id, size_t idcap) {
    size_t n = 0, hl = 0, cl = 0;
    char *end = NULL, *line;
    while (!end) {
        ssize_t r = read(fd, in + n, sizeof in - 1 - n);
        if (r <= 0) exit(1);
        n += (size_t)r;
        in[n] = 0;
        end = strstr(in, "\r\n\r\n");
    }
    hl = (size_t)(end - in) + 4;
    for (line = strstr(in, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (!strncasecmp(line, "content-length:", 15)) cl = strtoul(line + 15, NULL, 10);
        if (id && !strncasecmp(line, "lambda-runtime-aws-request-id:", 30)) {
            size_t i = 0;
            for (line += 30; *line == ' '; line++) {}
            while (i + 1 < idcap && line[i] != '\r') { id[i] = line[i]; i++; }
            id[i] = 0;
        }
    }
    if (hl + cl >= sizeof in) exit(1);
    while (n < hl + cl) {
        ssize_t r = read(fd, in + n, hl + cl - n);
        if (r <= 0) exit(1);
        n += (size_t)r;
    }
    *len = cl;
    return in + hl;
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) exit(1);
        p += w;
        n -= (size_t)w;
    }
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API"), *colon = api ? strrchr(api, ':') : NULL;
    char host[64], id[128];
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (!colon || (size_t)(colon - api) >= sizeof host) return 1;
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) return 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        static const char next[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n";
        size_t len, hlen;
        char *event;
        send_all(fd, next, sizeof next - 1);
        id[0] = 0;
        event = message(fd, &len, id, sizeof id);
        hlen = (size_t)snprintf(head, sizeof head,
            "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nContent-Length: %lu\r\n\r\n", id, (unsigned long)len);
        if (hlen >= sizeof head) return 1;
        {   /* head and body in one segment */
            struct iovec iov[2] = {{head, hlen}, {event, len}};
            if ((size_t)writev(fd, iov, 2) != hlen + len) return 1;
        }
        message(fd, &len, NULL, 0); /* the 202 */
    }
}
