/*
 * faas_run takes the runtime's storage for one thread, once per process: a
 * second call, on the same thread or on another, is refused with a message
 * and runs nothing. (The claim is an atomic compare-and-swap; on aarch64 it
 * is hand-written, and tests/arm64.rs runs this program there.)
 *
 * Self-checking: stderr goes to a temporary file, which must then hold the
 * first call's address error once and the refusal twice. Exit status 0 when
 * it does; otherwise 1, with what was logged.
 */
#define _POSIX_C_SOURCE 200809L
#include <faas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int echo(void *user_data, faas_invocation *inv) {
    (void)user_data;
    (void)inv;
    return FAAS_OK;
}

static void *run_on_another_thread(void *rc) {
    *(int *)rc = faas_run(echo, NULL, NULL);
    return NULL;
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

int main(void) {
    static char logged[4096];
    FILE *log = tmpfile();
    int saved = dup(2);
    pthread_t t;
    int rc[3] = {0, 0, 0};
    size_t n;

    if (!log || saved < 0 || dup2(fileno(log), 2) < 0) return perror("run_once: stderr"), 1;
    /* Without AWS_LAMBDA_RUNTIME_API the first call takes the storage and
     * then stops on the address; the others must not get that far. */
    unsetenv("AWS_LAMBDA_RUNTIME_API");
    rc[0] = faas_run(echo, NULL, NULL);
    rc[1] = faas_run(echo, NULL, NULL);
    if (pthread_create(&t, NULL, run_on_another_thread, &rc[2]) != 0 || pthread_join(t, NULL) != 0) return 1;
    dup2(saved, 2);

    rewind(log);
    n = fread(logged, 1, sizeof logged - 1, log);
    logged[n] = '\0';
    if (rc[0] == 0 || rc[1] == 0 || rc[2] == 0 || count(logged, "AWS_LAMBDA_RUNTIME_API is not set") != 1 ||
        count(logged, "may only be called once") != 2) {
        fprintf(stderr, "run_once: status %d %d %d, logged:\n%s", rc[0], rc[1], rc[2], logged);
        return 1;
    }
    return 0;
}
