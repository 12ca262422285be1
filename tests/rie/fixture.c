/*
 * A test bootstrap for faas-rie's failure paths: the event "sleep" outlives
 * any short timeout, "crash" exits mid-invocation without answering, and
 * anything else is echoed. For the abuse tests (tests/rie_abuse.rs):
 * "flood" writes 8 MB to stdout, "fork" leaves a sleeping grandchild,
 * "ignoreterm" ignores SIGTERM from then on, "half" sends half a response
 * and exits; each of these answers its pid (or the grandchild's).
 * With the argument "graceful" it runs with faas_run_graceful.
 */
#define _DEFAULT_SOURCE
#include <faas.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int is(const uint8_t *event, size_t len, const char *name) {
    return len == strlen(name) + 2 && event[0] == '"' && memcmp(event + 1, name, len - 2) == 0;
}

/* Half a response on a connection of our own, then exit. */
static void half(faas_invocation *inv) {
    char host[256], head[512];
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    const char *colon = api ? strrchr(api, ':') : NULL;
    struct addrinfo *ai;
    int fd, n;
    if (!colon || (size_t)(colon - api) >= sizeof host) {
        _exit(6);
    }
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = 0;
    if (getaddrinfo(host, colon + 1, NULL, &ai) != 0) {
        _exit(6);
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        _exit(6);
    }
    n = snprintf(head, sizeof head,
                 "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"half",
                 faas_request_id(inv));
    if (write(fd, head, (size_t)n) != n) {
        _exit(6);
    }
    _exit(5);
}

static int handle(void *user_data, faas_invocation *inv) {
    size_t len;
    const uint8_t *event = faas_event(inv, &len);
    char out[64];
    long pid = (long)getpid();
    (void)user_data;
    if (is(event, len, "sleep")) {
        sleep(60);
    }
    if (is(event, len, "crash")) {
        _exit(3);
    }
    if (is(event, len, "half")) {
        half(inv);
    }
    if (is(event, len, "flood")) {
        static char line[1024];
        memset(line, 'f', sizeof line - 1);
        line[sizeof line - 1] = '\n';
        for (int i = 0; i < 8 * 1024; i++) {
            fwrite(line, 1, sizeof line, stdout);
        }
        fflush(stdout);
    }
    if (is(event, len, "fork")) {
        pid_t child = fork();
        if (child == 0) {
            sleep(60);
            _exit(0);
        }
        pid = (long)child;
    }
    if (is(event, len, "ignoreterm")) {
        signal(SIGTERM, SIG_IGN);
    }
    if (is(event, len, "flood") || is(event, len, "fork") || is(event, len, "ignoreterm")) {
        int n = snprintf(out, sizeof out, "%ld", pid);
        return faas_respond(inv, out, (size_t)n, "application/json");
    }
    return faas_respond(inv, event, len, "application/json");
}

static void shutdown_hook(void *user_data) {
    (void)user_data;
    fputs("fixture: shutdown hook\n", stdout);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "graceful") == 0) {
        return faas_run_graceful(handle, NULL, shutdown_hook, NULL);
    }
    return faas_run(handle, NULL, NULL);
}
