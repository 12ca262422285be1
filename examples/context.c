/*
 * Context and errors: answers with the invocation's context as JSON, built
 * in faas's response buffer with no malloc. The event "fail" reports a
 * function error; an init error is shown when FAIL_INIT is set. It also
 * opts in to graceful shutdown: on SIGTERM it logs how many invocations it
 * served.
 */
#include <faas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app {
    unsigned long invocations;
};

static int init(void *user_data, faas_error *error) {
    (void)user_data;
    if (getenv("FAIL_INIT")) {
        error->error_type = "Function.BadConfig";
        error->message = "FAIL_INIT is set";
        return FAAS_EINVAL;
    }
    return FAAS_OK;
}

/* Appends "key":"value" with the value made safe for JSON (NULL: null). */
static size_t field(char *out, size_t cap, const char *key, const char *value) {
    size_t n = (size_t)snprintf(out, cap, "\"%s\":", key);
    if (!value) {
        return n + (size_t)snprintf(out + n, cap - n, "null,");
    }
    out[n++] = '"';
    for (; *value && n + 8 < cap; value++) {
        unsigned char c = (unsigned char)*value;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n++] = ',';
    return n;
}

static int handle(void *user_data, faas_invocation *inv) {
    struct app *app = user_data;
    size_t len, cap;
    const uint8_t *event = faas_event(inv, &len);
    char *out;
    size_t n = 0;
    char line[160];

    app->invocations++;
    snprintf(line, sizeof line, "invocation %lu, request %s", app->invocations, faas_request_id(inv));
    faas_log(FAAS_LOG_INFO, line, strlen(line));

    if (len == 6 && memcmp(event, "\"fail\"", 6) == 0) {
        static const char msg[] = "the event asked to fail: \"quotes\", \\ and a\nnewline";
        return faas_fail(inv, "Function.AskedToFail", msg, sizeof msg - 1);
    }
    out = (char *)faas_response_buffer(inv, &cap);
    if (!out) {
        return FAAS_ESTATE;
    }
    out[n++] = '{';
    n += field(out + n, cap - n, "request_id", faas_request_id(inv));
    n += field(out + n, cap - n, "function_arn", faas_function_arn(inv));
    n += field(out + n, cap - n, "trace_id", faas_trace_id(inv));
    n += field(out + n, cap - n, "env_trace_id", getenv("_X_AMZN_TRACE_ID"));
    n += field(out + n, cap - n, "client_context", faas_client_context(inv));
    n += field(out + n, cap - n, "cognito_identity", faas_cognito_identity(inv));
    n += field(out + n, cap - n, "tenant_id", faas_tenant_id(inv));
    n += (size_t)snprintf(out + n, cap - n, "\"deadline_ms\":%llu,\"remaining_ms\":%llu,\"event_bytes\":%zu,\"invocations\":%lu}",
                          (unsigned long long)faas_deadline_ms(inv), (unsigned long long)faas_remaining_ms(inv), len,
                          app->invocations);
    return faas_respond(inv, out, n, "application/json");
}

static void shutdown(void *user_data) {
    struct app *app = user_data;
    char line[80];
    snprintf(line, sizeof line, "shutting down after %lu invocations", app->invocations);
    faas_log(FAAS_LOG_INFO, line, strlen(line));
}

int main(void) {
    struct app app = {0};
    return faas_run_graceful(handle, init, shutdown, &app);
}
