/*
 * Streaming: sends the event back in chunks. The event "fail" fails after
 * the first chunk, which the caller sees in the stream's error trailers.
 * The event "http" answers as a function URL would want: status 201, a
 * header, a cookie, then the body (a prelude that is not JSON is refused).
 */
#include <faas.h>
#include <string.h>

static int stream(void *user_data, faas_invocation *inv) {
    size_t len;
    const uint8_t *event = faas_event(inv, &len);
    int rc;
    (void)user_data;
    if (len == 6 && memcmp(event, "\"http\"", 6) == 0) {
        if (faas_stream_begin_http(inv, "not json") != FAAS_EINVAL) return 1;
        rc = faas_stream_begin_http(inv, "{\"statusCode\":201,\"headers\":{\"x-faas\":\"yes\"},\"cookies\":[\"a=b\"]}");
        if (rc != FAAS_OK) return rc;
        return faas_stream_write(inv, "hello", 5);
    }
    if ((rc = faas_stream_begin(inv, "text/plain")) != FAAS_OK) return rc;
    if ((rc = faas_stream_write(inv, "start\n", 6)) != FAAS_OK) return rc;
    if (len == 6 && memcmp(event, "\"fail\"", 6) == 0) {
        static const char msg[] = "failed after the first chunk";
        return faas_fail(inv, "Function.StreamFailed", msg, sizeof msg - 1);
    }
    if ((rc = faas_stream_write(inv, event, len)) != FAAS_OK) return rc;
    return faas_stream_write(inv, "\nend\n", 5);
}

int main(void) {
    return faas_run(stream, NULL, NULL);
}
