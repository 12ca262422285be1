/*
 * A handler for tests/runtime_api.rs (c_handler_codes_after_an_answer_attempt):
 * answers that fail, and codes returned after an answer began.
 *   "bad type"          faas_respond() with a content type that cannot be a
 *                       header value: FAAS_EINVAL, nothing sent; returned.
 *   "bad type, ignored" the same, but FAAS_OK returned.
 *   "code after stream" one chunk, then FAAS_EINVAL returned.
 *   anything else       the event, echoed.
 */
#include <faas.h>
#include <string.h>

static int is(const uint8_t *event, size_t len, const char *s) {
    return len == strlen(s) && memcmp(event, s, len) == 0;
}

static int answers(void *user_data, faas_invocation *inv) {
    size_t len;
    const uint8_t *event = faas_event(inv, &len);
    int rc;
    (void)user_data;
    if (is(event, len, "\"bad type\"")) {
        return faas_respond(inv, "x", 1, "text/plain\r\nX-Injected: 1");
    }
    if (is(event, len, "\"bad type, ignored\"")) {
        (void)faas_respond(inv, "x", 1, "text/plain\r\nX-Injected: 1");
        return FAAS_OK;
    }
    if (is(event, len, "\"code after stream\"")) {
        if ((rc = faas_stream_begin(inv, "text/plain")) != FAAS_OK) return rc;
        if ((rc = faas_stream_write(inv, "partial", 7)) != FAAS_OK) return rc;
        return FAAS_EINVAL;
    }
    return faas_respond(inv, event, len, "application/json");
}

int main(void) {
    return faas_run(answers, NULL, NULL);
}
