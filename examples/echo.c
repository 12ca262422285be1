/* Echo: answers every invocation with its event, unchanged. */
#include <faas.h>

static int echo(void *user_data, faas_invocation *inv) {
    size_t len;
    const uint8_t *event = faas_event(inv, &len);
    (void)user_data;
    return faas_respond(inv, event, len, "application/json");
}

int main(void) {
    return faas_run(echo, NULL, NULL);
}
