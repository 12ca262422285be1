/*
 * A handler for tests/runtime_api.rs (c_handler_codes_after_an_answer_attempt):
 * answers that fail, and codes returned after an answer began.
 *   "bad type"          faas_respond() with a content type that cannot be a
 *                       header value: FAAS_EINVAL, nothing sent; returned.
 *   "bad type, ignored" the same, but FAAS_OK returned.
 *   "code after stream" one chunk, then FAAS_EINVAL returned.
 *   "non-ASCII type"    faas_respond() with a content type that is not ASCII:
 *                       FAAS_EINVAL too, nothing sent; returned.
 *   "non-ASCII error"   faas_fail() with an error type that is not ASCII.
 *   "long stream error" one chunk, then faas_fail() with a 20,000-byte
 *                       message, which the trailers must hold to a line.
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
    if (is(event, len, "\"non-ASCII type\"")) {
        return faas_respond(inv, "x", 1, "text/plain; charset=caf\xc3\xa9");
    }
    if (is(event, len, "\"non-ASCII error\"")) {
        return faas_fail(inv, "Function.Caf\xc3\xa9", "m", 1);
    }
    if (is(event, len, "\"long stream error\"")) {
        static char msg[20000];
        memset(msg, 'm', sizeof msg);
        if ((rc = faas_stream_begin(inv, "text/plain")) != FAAS_OK) return rc;
        if ((rc = faas_stream_write(inv, "partial", 7)) != FAAS_OK) return rc;
        return faas_fail(inv, "Function.Long", msg, sizeof msg);
    }
    return faas_respond(inv, event, len, "application/json");
}

int main(void) {
    return faas_run(answers, NULL, NULL);
}
