/*
 * faas.h: the C API of faas, the smallest and fastest AWS Lambda runtime.
 *
 * Link a handler with libfaas.a into an executable called `bootstrap`:
 *
 *     #include <faas.h>
 *     static int echo(void *user_data, faas_invocation *inv) {
 *         size_t len;
 *         const uint8_t *event = faas_event(inv, &len);
 *         (void)user_data;
 *         return faas_respond(inv, event, len, "application/json");
 *     }
 *     int main(void) { return faas_run(echo, NULL, NULL); }
 *
 *     cc -Os handler.c -Iinclude libfaas.a -o bootstrap
 *
 * Conventions:
 * - Every symbol starts with faas_ (functions, types) or FAAS_ (macros,
 *   constants).
 * - Fallible calls return a faas_result: FAAS_OK (0) or an error code that
 *   faas_strerror() describes. Out-parameters are written only on success.
 * - Every buffer pointer is followed by its length in bytes.
 * - The runtime is single-threaded: call these functions from the thread
 *   that called faas_run(), while the handler runs.
 * - faas allocates nothing; its buffers are static.
 */
#ifndef FAAS_H
#define FAAS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; faas_version() gives the library's. */
#define FAAS_VERSION_MAJOR 0
#define FAAS_VERSION_MINOR 1
#define FAAS_VERSION_PATCH 0
#define FAAS_VERSION "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, as faas_version_number() returns. */
#define FAAS_VERSION_NUMBER 100

/* The largest event or response: 6 MiB, Lambda's synchronous limit. */
#define FAAS_MAX_PAYLOAD 6291456

/*
 * Result codes. The list is append-only: a code keeps its number forever,
 * and a retired one stays here as a comment. Code N is what the Rust API's
 * faas::Error::code() returns for the same error; a caller should treat a
 * code it does not know as a failure (faas_strerror() describes it).
 */
typedef enum faas_result {
    FAAS_OK = 0,
    FAAS_ENOADDRESS = 1,   /* AWS_LAMBDA_RUNTIME_API is not set */
    FAAS_EADDRESS = 2,     /* AWS_LAMBDA_RUNTIME_API cannot be parsed */
    FAAS_ECONNECT = 3,     /* the Runtime API cannot be reached */
    FAAS_EIO = 4,          /* a socket read or write failed */
    FAAS_ECLOSED = 5,      /* the Runtime API closed the connection */
    FAAS_ETRUNCATED = 6,   /* ... in the middle of a message */
    FAAS_EPROTO = 7,       /* a malformed HTTP head from the Runtime API */
    FAAS_ETOOLARGE = 8,    /* a payload or header over its limit (413) */
    FAAS_ESTATUS = 9,      /* the Runtime API refused the request (4xx) */
    FAAS_EFATAL = 10,      /* the Runtime API reported a fatal error (5xx) */
    FAAS_ENOREQUESTID = 11,/* an invocation without a request id */
    FAAS_EINVAL = 12,      /* an invalid argument (NULL, CR/LF in a header) */
    FAAS_ESTATE = 13,      /* not allowed now (e.g. a second response) */
    FAAS_EJSON = 14,       /* JSON does not parse or does not fit */
    FAAS_ESHUTDOWN = 15,   /* SIGTERM arrived: the runtime is stopping */
    FAAS_EFRAMING = 16,    /* a bad Content-Length or Transfer-Encoding */
    FAAS_ECHUNKED = 17     /* a malformed chunked body from the Runtime API */
} faas_result;

/* One invocation. Opaque; valid only while the handler it was given to runs. */
typedef struct faas_invocation faas_invocation;

/*
 * What an init callback fills in when it fails. Both strings are borrowed
 * and must stay valid until faas_run() returns (string literals are ideal).
 * NULL members get defaults: "Runtime.InitError" and faas_strerror(code).
 */
typedef struct faas_error {
    const char *error_type; /* "Category.Reason", e.g. "Function.BadConfig" */
    const char *message;
} faas_error;

/*
 * The handler: called once per invocation with the user_data given to
 * faas_run(). It answers with faas_respond(), faas_fail(), or a stream
 * (faas_stream_begin() and faas_stream_write(); the runtime ends the stream
 * when the handler returns). Returning a non-zero code without having
 * answered reports the error "Function.Error" with faas_strerror(code);
 * so does an answer that failed before sending anything (faas_respond()
 * with a content type holding CR, LF or a byte over 127: FAAS_EINVAL),
 * whatever the handler returns then. Returning FAAS_OK without an answer
 * reports "Runtime.NoResponse". Returning non-zero after a stream began ends
 * it with error trailers; after a response went out, the code is only logged.
 */
typedef int (*faas_handler_fn)(void *user_data, faas_invocation *inv);

/*
 * The init callback, called once before the first invocation. Return
 * FAAS_OK, or any other value (and optionally fill *error) to post the
 * failure to /runtime/init/error; faas_run() then returns 1.
 */
typedef int (*faas_init_fn)(void *user_data, faas_error *error);

/*
 * Runs the function: reads AWS_LAMBDA_RUNTIME_API, calls init (may be NULL)
 * once, then handles invocations until a fatal error. Returns the exit
 * status for main() (non-zero) only then; on Lambda it normally never
 * returns. Errors are explained on stderr.
 */
int faas_run(faas_handler_fn handler, faas_init_fn init, void *user_data);

/* Called once on SIGTERM, between invocations (see faas_run_graceful). */
typedef void (*faas_shutdown_fn)(void *user_data);

/*
 * faas_run() with graceful shutdown: during init the runtime registers a
 * no-op internal extension, so that Lambda sends it SIGTERM before it shuts
 * the environment down (it sends none otherwise). shutdown (not NULL) then
 * runs with user_data (Lambda allows about 300 ms) and faas_run_graceful()
 * returns 0, for main() to return. If registration fails (e.g. an emulator
 * without the Extensions API), a line on stderr says so and the function
 * runs as with faas_run().
 */
int faas_run_graceful(faas_handler_fn handler, faas_init_fn init, faas_shutdown_fn shutdown, void *user_data);

/*
 * The event bytes; *len (if len is not NULL) gets their length. Borrowed:
 * valid until the handler returns. A NUL byte follows the event (not counted
 * in *len), so it can be read as a C string when it has no NUL of its own.
 */
const uint8_t *faas_event(const faas_invocation *inv, size_t *len);

/*
 * Invocation headers as NUL-terminated strings, borrowed until the handler
 * returns. All but the request id may be NULL when absent.
 */
const char *faas_request_id(const faas_invocation *inv);
const char *faas_function_arn(const faas_invocation *inv);
const char *faas_trace_id(const faas_invocation *inv);        /* also in _X_AMZN_TRACE_ID */
const char *faas_client_context(const faas_invocation *inv);  /* JSON */
const char *faas_cognito_identity(const faas_invocation *inv);/* JSON */
const char *faas_tenant_id(const faas_invocation *inv);

/* The deadline in Unix epoch milliseconds (0 if unknown), and the time left. */
uint64_t faas_deadline_ms(const faas_invocation *inv);
uint64_t faas_remaining_ms(const faas_invocation *inv);

/*
 * A static buffer of FAAS_MAX_PAYLOAD bytes to build the response in,
 * without malloc; *capacity (if not NULL) gets its size. Owned by faas;
 * writable until the handler returns; reused by the next invocation.
 * NULL once the invocation was answered.
 */
uint8_t *faas_response_buffer(faas_invocation *inv, size_t *capacity);

/*
 * Sends body (len bytes; borrowed for this call only, so a stack buffer is
 * fine) as the response, now. content_type may be NULL (application/json).
 * FAAS_ESTATE if the invocation was already answered; FAAS_ETOOLARGE if the
 * Runtime API refused the size (the caller has been told).
 */
int faas_respond(faas_invocation *inv, const void *body, size_t len, const char *content_type);

/*
 * Reports an error for this invocation, now: error_type is "Category.Reason"
 * (NULL: "Function.Error"; empty, over 128 bytes or not printable ASCII:
 * sent as "Runtime.Unknown"); message is any bytes (message_len long), sent
 * JSON-escaped. Both borrowed for this call only. In a stream, this ends
 * the stream with the error trailers.
 */
int faas_fail(faas_invocation *inv, const char *error_type, const char *message, size_t message_len);

/*
 * Starts a streamed response (content_type may be NULL:
 * application/octet-stream). The headers go out now. Each
 * faas_stream_write() sends one chunk at once (data borrowed for the call).
 */
int faas_stream_begin(faas_invocation *inv, const char *content_type);
int faas_stream_write(faas_invocation *inv, const void *data, size_t len);

/*
 * Starts a streamed answer for a Lambda function URL (invoke mode
 * RESPONSE_STREAM): prelude_json is the JSON object that sets the HTTP
 * status, headers and cookies, e.g.
 * {"statusCode":200,"headers":{"content-type":"text/html"}}; borrowed for
 * this call only. It goes out now, with the content type
 * FAAS_HTTP_INTEGRATION and the eight NUL bytes that end it; then
 * faas_stream_write() the body. FAAS_EINVAL (and nothing sent) if
 * prelude_json is NULL or does not start with '{'.
 */
#define FAAS_HTTP_INTEGRATION "application/vnd.awslambda.http-integration-response"
int faas_stream_begin_http(faas_invocation *inv, const char *prelude_json);

/* Log levels, as Lambda names them. */
typedef enum faas_log_level {
    FAAS_LOG_TRACE = 0,
    FAAS_LOG_DEBUG = 1,
    FAAS_LOG_INFO = 2,
    FAAS_LOG_WARN = 3,
    FAAS_LOG_ERROR = 4,
    FAAS_LOG_FATAL = 5
} faas_log_level;

/*
 * Writes message (len bytes, borrowed for the call) as one line to stderr,
 * which Lambda sends to CloudWatch Logs. With AWS_LAMBDA_LOG_FORMAT=JSON the
 * line is {"timestamp","level","message","requestId"} and levels below
 * AWS_LAMBDA_LOG_LEVEL are dropped; in text format it is the message as is.
 * An unknown level counts as FAAS_LOG_INFO.
 */
void faas_log(int level, const char *message, size_t len);

/* A static description of a result code; never NULL. */
const char *faas_strerror(int code);

/* The library's version, "MAJOR.MINOR.PATCH" (static), and as a number. */
const char *faas_version(void);
uint32_t faas_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* FAAS_H */
