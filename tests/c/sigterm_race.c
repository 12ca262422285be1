/* LD_PRELOAD shim for tests/runtime_api.rs: delivers SIGTERM at the worst
 * moment for a graceful shutdown, after the runtime last looked at its
 * SIGTERM flag and before its long poll on /next enters recv(2). It arms
 * once a reply to a POST ("HTTP/1.1 202") arrives: the next recv is the
 * long poll of the next /next. A runtime that checks a flag and then
 * blocks would sleep through that SIGTERM. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

static int armed, fired;

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    static ssize_t (*real)(int, void *, size_t, int);
    if (!real)
        real = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
    if (armed && !fired) {
        fired = 1;
        raise(SIGTERM);
    }
    ssize_t n = real(fd, buf, len, flags);
    if (n >= 12 && memcmp(buf, "HTTP/1.1 202", 12) == 0)
        armed = 1;
    return n;
}
