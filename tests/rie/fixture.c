/*
 * A test bootstrap for faas-rie's failure paths: the event "sleep" outlives
 * any short timeout, "crash" exits mid-invocation without answering, and
 * anything else is echoed.
 */
#define _DEFAULT_SOURCE
#include <faas.h>
#include <string.h>
#include <unistd.h>

static int handle(void *user_data, faas_invocation *inv) {
    size_t len;
    const uint8_t *event = faas_event(inv, &len);
    (void)user_data;
    if (len == 7 && memcmp(event, "\"sleep\"", 7) == 0) {
        sleep(60);
    }
    if (len == 7 && memcmp(event, "\"crash\"", 7) == 0) {
        _exit(3);
    }
    return faas_respond(inv, event, len, "application/json");
}

int main(void) {
    return faas_run(handle, NULL, NULL);
}
