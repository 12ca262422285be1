/*
 * The C API's promises that need no Runtime API: the version macros agree
 * with the library, every result code has its own static description, and
 * calls given NULL pointers fail cleanly instead of crashing.
 *
 * Built by tests/c/run.sh with -std=c99 -Wall -Wextra -Wpedantic -Werror,
 * once plain and once under AddressSanitizer and UBSan.
 */
#include <faas.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static int failures;
static int checks;

#define CHECK(cond, ...)                                          \
    do {                                                          \
        checks++;                                                 \
        if (!(cond)) {                                            \
            failures++;                                           \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                         \
            fputc('\n', stderr);                                  \
        }                                                         \
    } while (0)

static void version(void) {
    char built[32];
    const char *v = faas_version();

    CHECK(v != NULL, "faas_version() returned NULL");
    if (v) {
        CHECK(strcmp(v, FAAS_VERSION) == 0, "header says %s, library says %s", FAAS_VERSION, v);
    }
    CHECK(faas_version_number() == FAAS_VERSION_NUMBER, "header says %d, library says %lu", FAAS_VERSION_NUMBER,
          (unsigned long)faas_version_number());
    CHECK(FAAS_VERSION_MAJOR * 10000 + FAAS_VERSION_MINOR * 100 + FAAS_VERSION_PATCH == FAAS_VERSION_NUMBER,
          "MAJOR/MINOR/PATCH %d.%d.%d do not make FAAS_VERSION_NUMBER %d", FAAS_VERSION_MAJOR, FAAS_VERSION_MINOR,
          FAAS_VERSION_PATCH, FAAS_VERSION_NUMBER);
    snprintf(built, sizeof built, "%d.%d.%d", FAAS_VERSION_MAJOR, FAAS_VERSION_MINOR, FAAS_VERSION_PATCH);
    CHECK(strcmp(built, FAAS_VERSION) == 0, "MAJOR/MINOR/PATCH make %s, FAAS_VERSION is %s", built, FAAS_VERSION);
    CHECK(faas_version() == v, "faas_version() is not one static string");
}

static void strerror_codes(void) {
    /* Every code the header defines, in order: the enum must stay dense. */
    static const int codes[] = {
        FAAS_OK,      FAAS_ENOADDRESS, FAAS_EADDRESS,     FAAS_ECONNECT, FAAS_EIO,
        FAAS_ECLOSED, FAAS_ETRUNCATED, FAAS_EPROTO,       FAAS_ETOOLARGE, FAAS_ESTATUS,
        FAAS_EFATAL,  FAAS_ENOREQUESTID, FAAS_EINVAL,     FAAS_ESTATE,   FAAS_EJSON,
        FAAS_ESHUTDOWN, FAAS_EFRAMING, FAAS_ECHUNKED,
    };
    static const int unknown[] = {-1, FAAS_ECHUNKED + 1, 100, 1000, INT_MIN, INT_MAX};
    const size_t n = sizeof codes / sizeof codes[0];
    const char *desc[sizeof codes / sizeof codes[0]];
    size_t i, j;

    CHECK(FAAS_OK == 0, "FAAS_OK is %d", (int)FAAS_OK);
    for (i = 0; i < n; i++) {
        CHECK(codes[i] == (int)i, "code %lu has the value %d", (unsigned long)i, codes[i]);
        desc[i] = faas_strerror(codes[i]);
        CHECK(desc[i] != NULL, "faas_strerror(%d) is NULL", codes[i]);
        if (!desc[i]) {
            desc[i] = "";
            continue;
        }
        CHECK(desc[i][0] != '\0', "faas_strerror(%d) is empty", codes[i]);
        CHECK(faas_strerror(codes[i]) == desc[i], "faas_strerror(%d) is not static", codes[i]);
    }
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            CHECK(strcmp(desc[i], desc[j]) != 0, "codes %d and %d share the description \"%s\"", codes[i], codes[j],
                  desc[i]);
        }
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *d = faas_strerror(unknown[i]);
        CHECK(d != NULL, "faas_strerror(%d) is NULL for an unknown code", unknown[i]);
        if (!d) {
            continue;
        }
        CHECK(d[0] != '\0', "faas_strerror(%d) is empty", unknown[i]);
        for (j = 0; j < n; j++) {
            CHECK(strcmp(d, desc[j]) != 0, "unknown code %d described like code %d: \"%s\"", unknown[i], codes[j], d);
        }
    }
}

static void null_pointers(void) {
    size_t len = 12345, cap = 54321;
    static const char body[] = "{}";

    CHECK(faas_run(NULL, NULL, NULL) == FAAS_EINVAL, "faas_run with a NULL handler");

    CHECK(faas_event(NULL, &len) == NULL, "faas_event(NULL)");
    CHECK(len == 12345, "faas_event(NULL) wrote *len = %lu", (unsigned long)len);
    CHECK(faas_event(NULL, NULL) == NULL, "faas_event(NULL, NULL)");

    CHECK(faas_request_id(NULL) == NULL, "faas_request_id(NULL)");
    CHECK(faas_function_arn(NULL) == NULL, "faas_function_arn(NULL)");
    CHECK(faas_trace_id(NULL) == NULL, "faas_trace_id(NULL)");
    CHECK(faas_client_context(NULL) == NULL, "faas_client_context(NULL)");
    CHECK(faas_cognito_identity(NULL) == NULL, "faas_cognito_identity(NULL)");
    CHECK(faas_tenant_id(NULL) == NULL, "faas_tenant_id(NULL)");
    CHECK(faas_deadline_ms(NULL) == 0, "faas_deadline_ms(NULL)");
    CHECK(faas_remaining_ms(NULL) == 0, "faas_remaining_ms(NULL)");

    CHECK(faas_response_buffer(NULL, &cap) == NULL, "faas_response_buffer(NULL)");
    CHECK(cap == 54321, "faas_response_buffer(NULL) wrote *capacity = %lu", (unsigned long)cap);
    CHECK(faas_response_buffer(NULL, NULL) == NULL, "faas_response_buffer(NULL, NULL)");

    CHECK(faas_respond(NULL, body, 2, NULL) == FAAS_EINVAL, "faas_respond(NULL, ...)");
    CHECK(faas_respond(NULL, NULL, 0, "text/plain") == FAAS_EINVAL, "faas_respond(NULL, NULL, 0, ...)");
    CHECK(faas_fail(NULL, NULL, NULL, 0) == FAAS_EINVAL, "faas_fail(NULL, ...)");
    CHECK(faas_fail(NULL, "Function.X", "m", 1) == FAAS_EINVAL, "faas_fail(NULL, type, msg)");
    CHECK(faas_stream_begin(NULL, NULL) == FAAS_EINVAL, "faas_stream_begin(NULL, NULL)");
    CHECK(faas_stream_begin_http(NULL, "{}") == FAAS_EINVAL, "faas_stream_begin_http(NULL, ...)");
    CHECK(faas_stream_begin_http(NULL, NULL) == FAAS_EINVAL, "faas_stream_begin_http(NULL, NULL)");
    CHECK(faas_stream_write(NULL, body, 2) == FAAS_EINVAL, "faas_stream_write(NULL, ...)");
    CHECK(faas_stream_write(NULL, NULL, 0) == FAAS_EINVAL, "faas_stream_write(NULL, NULL, 0)");

    /* No result to check: these must simply return. */
    faas_log(FAAS_LOG_INFO, NULL, 0);
    faas_log(FAAS_LOG_ERROR, NULL, 10);
    faas_log(-1, NULL, 5); /* an unknown level as well */
    faas_log(FAAS_LOG_INFO, "", 0);
}

int main(void) {
    version();
    strerror_codes();
    null_pointers();
    printf("api_test: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
