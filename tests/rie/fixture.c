/*
 * A test bootstrap for faas-rie's failure paths: the event "sleep" outlives
 * any short timeout, "crash" exits mid-invocation without answering (its
 * last log line unfinished), and
 * anything else is echoed. For the abuse tests (tests/rie_abuse.rs):
 * "flood" writes 8 MB to stdout, "fork" leaves a sleeping grandchild,
 * "setsid" one in a session of its own, "ignoreterm" ignores SIGTERM from
 * then on, "half" sends half a response and exits; each of these answers
 * its pid (or the grandchild's).
 * Streams: "drip" sends "first\n", waits (20 s at most) for the file named
 * by $DRIP_FILE, then sends "second\n" (or "no file\n" if it never came); "big" streams 200 MiB + 1 KiB, just
 * over Lambda's streaming limit, and logs what its writes returned.
 * $FIXTURE_INIT_MS: sleep that long before the first /next (a slow init).
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
#include <time.h>
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

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&ts, NULL);
}

/* "drip": a chunk, then the next only once the caller has seen the first. */
static int drip(faas_invocation *inv) {
    const char *file = getenv("DRIP_FILE");
    int rc = faas_stream_begin(inv, "text/plain");
    if (rc == FAAS_OK) rc = faas_stream_write(inv, "first\n", 6);
    int seen = 0;
    for (int i = 0; rc == FAAS_OK && file && i < 2000 && !seen; i++) {
        seen = access(file, F_OK) == 0;
        if (!seen) sleep_ms(10);
    }
    if (rc != FAAS_OK) return rc;
    return seen ? faas_stream_write(inv, "second\n", 7) : faas_stream_write(inv, "no file\n", 8);
}

/* "big": 200 MiB + 1 KiB in 1 MiB chunks; the emulator cuts it off. */
static int big(faas_invocation *inv) {
    static char mib[1 << 20];
    int rc = faas_stream_begin(inv, NULL), n = 0;
    memset(mib, 'b', sizeof mib);
    for (; rc == FAAS_OK && n < 200; n++) {
        rc = faas_stream_write(inv, mib, sizeof mib);
    }
    if (rc == FAAS_OK) rc = faas_stream_write(inv, mib, 1024);
    printf("fixture: big stream: %d MiB written, last write returned %d\n", n, rc);
    fflush(stdout);
    return rc;
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
        fputs("dying without a newline", stdout);
        fflush(stdout);
        _exit(3);
    }
    if (is(event, len, "half")) {
        half(inv);
    }
    if (is(event, len, "drip")) {
        return drip(inv);
    }
    if (is(event, len, "big")) {
        return big(inv);
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
    if (is(event, len, "setsid")) {
        /* Answers once the grandchild has left our session (the pipe closes). */
        int p[2];
        char b;
        pid_t child = pipe(p) == 0 ? fork() : -1;
        if (child == 0) {
            setsid();
            close(p[1]);
            sleep(60);
            _exit(0);
        }
        if (child > 0) {
            close(p[1]);
            if (read(p[0], &b, 1) < 0) child = -1;
            close(p[0]);
        }
        pid = (long)child;
    }
    if (is(event, len, "ignoreterm")) {
        signal(SIGTERM, SIG_IGN);
    }
    if (is(event, len, "flood") || is(event, len, "fork") || is(event, len, "setsid") || is(event, len, "ignoreterm")) {
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
    if (getenv("FIXTURE_INIT_MS")) {
        sleep_ms(atol(getenv("FIXTURE_INIT_MS")));
    }
    if (argc > 1 && strcmp(argv[1], "graceful") == 0) {
        return faas_run_graceful(handle, NULL, shutdown_hook, NULL);
    }
    return faas_run(handle, NULL, NULL);
}
