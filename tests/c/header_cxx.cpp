// faas.h from C++: the extern "C" guard must make the names link against
// libfaas.a unmangled. Built by tests/c/run.sh with g++ -Wall -Wextra
// -Wpedantic -Werror and run.
#include <faas.h>
#include <cstdio>
#include <cstring>

int main() {
    const char *v = faas_version();
    faas_handler_fn handler = 0;
    faas_error err = {0, 0};
    (void)handler;
    (void)err;
    if (v == 0 || std::strcmp(v, FAAS_VERSION) != 0 || faas_version_number() != FAAS_VERSION_NUMBER) {
        std::fprintf(stderr, "header_cxx: version mismatch: header %s, library %s\n", FAAS_VERSION, v ? v : "(null)");
        return 1;
    }
    if (faas_strerror(FAAS_EINVAL) == 0 || faas_respond(0, 0, 0, 0) != FAAS_EINVAL) {
        std::fprintf(stderr, "header_cxx: calls through the C++ declarations misbehave\n");
        return 1;
    }
    std::printf("header_cxx: ok\n");
    return 0;
}
