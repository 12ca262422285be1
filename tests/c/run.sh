#!/usr/bin/env bash
# The C-side tests of faas (`make test-c`), run from the repository root once
# out/lib/libfaas.a exists:
#
#   1. faas.h compiles as C99 and C11 under -Wpedantic -Werror, and as C++
#      (98, 11, 17, 20); a C++ program links against libfaas.a through it.
#   2. tests/c/api_test.c: version macros vs faas_version*(), faas_strerror()
#      for every code and for unknown ones, NULL arguments; plain and under
#      AddressSanitizer + UBSan. tests/c/run_once.c: faas_run runs once.
#   3. The global symbols defined by libfaas.a's own object are exactly
#      tests/c/symbols.txt, which is exactly the functions faas.h declares.
#   4. The C examples, built with ASan + UBSan, run against the fake Runtime
#      API (tests/c/fake_runtime_api.py); every answer is checked and the
#      sanitizers must report nothing.
#   5. The static musl echo bootstrap runs under valgrind memcheck, clean.
#
# Every check runs even after a failure; the script exits non-zero if any
# failed. A missing tool is a failure, with the package to install.
set -u

cd "$(dirname "$0")/../.." || exit 1

CC=${CC:-gcc}
CXX=${CXX:-g++}
MAKE=${MAKE:-make}
LIB=out/lib/libfaas.a
STATIC_ECHO=out/static/echo-c
CSTRICT="-std=c99 -Wall -Wextra -Wpedantic -Werror"
SAN="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# A sanitizer report ends the program with its own status, so it can never
# pass for the runtime's normal exit; leak checking is on.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"

passed=0
failed=0
failures=()
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL %s\n' "$1" >&2; }
# run NAME CMD...: runs CMD; its output is shown only if it fails.
run() {
    local name=$1 log
    shift
    log=$("$@" 2>&1)
    local rc=$?
    if [ $rc -eq 0 ]; then
        ok "$name"
    else
        printf '%s\n' "$log" >&2
        fail "$name (exit status $rc)"
    fi
    return $rc
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/faas-test-c.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

# --- tools ---------------------------------------------------------------
need() { # need COMMAND DEBIAN-PACKAGE
    command -v "$1" >/dev/null 2>&1 || { fail "tool $1 is missing: apt-get install -y $2"; return 1; }
}
need "$CC" gcc
need "$CXX" g++
need python3 python3
need nm binutils
need ar binutils
need valgrind valgrind
need musl-gcc musl-tools
if [ ! -f "$LIB" ]; then
    fail "$LIB is missing: run 'make lib' (or 'make test-c', which builds it)"
    printf '\ntest-c: %d passed, %d failed\n' "$passed" "$failed"
    exit 1
fi

# The sanitizer runtimes: without them every sanitized build below fails,
# so say once, plainly, what to install.
printf 'int main(void) { return 0; }\n' >"$TMP/probe.c"
if ! "$CC" $SAN "$TMP/probe.c" -o "$TMP/probe" 2>"$TMP/probe.err"; then
    cat "$TMP/probe.err" >&2
    fail "$CC cannot link -fsanitize=address,undefined: apt-get install -y libasan8 libubsan1 (the runtimes of gcc $("$CC" -dumpversion 2>/dev/null))"
fi
# Canaries: a bug each sanitizer must catch, so that "no report" below
# means something. Each is built with its one sanitizer, to be seen alone.
cat >"$TMP/canary_asan.c" <<'EOF'
#include <stdlib.h>
int main(int argc, char **argv) {
    volatile char *p = malloc(4);
    (void)argv;
    p[argc + 3] = 1; /* one past the end */
    free((void *)p);
    return 0;
}
EOF
cat >"$TMP/canary_ubsan.c" <<'EOF'
#include <limits.h>
int main(int argc, char **argv) {
    volatile int n = INT_MAX;
    (void)argv;
    return n + argc > 0; /* signed overflow */
}
EOF
canary() { # canary NAME SANITIZER EXIT-STATUS PATTERN
    if ! "$CC" -O1 -g -fsanitize="$2" -fno-sanitize-recover=all "$TMP/canary_$1.c" -o "$TMP/canary_$1" 2>"$TMP/canary_$1.err"; then
        cat "$TMP/canary_$1.err" >&2
        fail "the $1 canary does not build"
        return
    fi
    "$TMP/canary_$1" >/dev/null 2>"$TMP/canary_$1.err"
    local rc=$?
    if [ $rc -eq "$3" ] && grep -q "$4" "$TMP/canary_$1.err"; then
        ok "-fsanitize=$2 reports a planted bug"
    else
        cat "$TMP/canary_$1.err" >&2
        fail "-fsanitize=$2 did not report a planted bug (exit status $rc): its silence below would mean nothing"
    fi
}
canary asan address 86 heap-buffer-overflow
canary ubsan undefined 87 'runtime error: signed integer overflow'

# --- 1. the header -------------------------------------------------------
for std in c99 c11; do
    run "faas.h compiles as $std with -Wpedantic -Werror" \
        "$CC" -x c -std=$std -Wall -Wextra -Wpedantic -Wstrict-prototypes -Werror -fsyntax-only include/faas.h
done
for std in c++98 c++11 c++17 c++20; do
    run "faas.h compiles as $std (g++ -x c++ -fsyntax-only)" \
        "$CXX" -x c++ -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only include/faas.h
done
if run "tests/c/header_cxx.cpp builds against libfaas.a" \
    "$CXX" -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude tests/c/header_cxx.cpp "$LIB" -o "$TMP/header_cxx"; then
    run "header_cxx runs (extern \"C\" names link and agree)" "$TMP/header_cxx"
fi

# --- 2. the C API without a Runtime API -----------------------------------
if run "tests/c/api_test.c builds ($CSTRICT)" \
    "$CC" $CSTRICT -Iinclude tests/c/api_test.c "$LIB" -o "$TMP/api_test"; then
    run "api_test: versions, faas_strerror, NULL arguments" "$TMP/api_test"
fi
if run "tests/c/api_test.c builds with ASan + UBSan" \
    "$CC" $CSTRICT $SAN -Iinclude tests/c/api_test.c "$LIB" -o "$TMP/api_test_san"; then
    run "api_test under ASan + UBSan" "$TMP/api_test_san"
fi
if run "tests/c/run_once.c builds ($CSTRICT)" \
    "$CC" $CSTRICT -pthread -Iinclude tests/c/run_once.c "$LIB" -o "$TMP/run_once"; then
    run "run_once: a second faas_run, on the same thread or another, is refused" "$TMP/run_once"
fi

# --- 3. exported symbols ---------------------------------------------------
# libfaas.a holds compiler_builtins (Rust objects named compiler_builtins-*,
# and C objects from compiler-rt named HASH-name.o) and the crate's own
# object(s); only the latter are ours to check.
symbols_test() {
    local members own m
    members=$(ar t "$LIB") || { echo "ar t $LIB failed"; return 1; }
    own=$(printf '%s\n' "$members" | grep -Ev '^compiler_builtins-|^[0-9a-f]{16}-[A-Za-z0-9_]+\.o$')
    if ! printf '%s\n' "$own" | grep -q '^faas_c-'; then
        echo "no faas_c-* object among the members of $LIB other than compiler_builtins:"
        printf '%s\n' "$own"
        return 1
    fi
    mkdir -p "$TMP/ar" && (cd "$TMP/ar" && ar x "$OLDPWD/$LIB") || { echo "ar x failed"; return 1; }
    : >"$TMP/defined"
    for m in $own; do
        # -P: "name type value size"; -g --defined-only: global, defined here.
        nm -P -g --defined-only "$TMP/ar/$m" >>"$TMP/nm.out" || { echo "nm $m failed"; return 1; }
    done
    cut -d' ' -f1 "$TMP/nm.out" | LC_ALL=C sort -u >"$TMP/defined"
    if ! LC_ALL=C sort -u tests/c/symbols.txt | diff -u --label tests/c/symbols.txt --label "$LIB (own objects)" - "$TMP/defined"; then
        echo "The exported symbols differ from tests/c/symbols.txt (- listed, + exported). nm output:"
        cat "$TMP/nm.out"
        return 1
    fi
    if grep -v '^faas_' tests/c/symbols.txt; then
        echo "tests/c/symbols.txt lists names without the faas_ prefix (above)"
        return 1
    fi
    # The header declares exactly the exported functions.
    if ! grep -oE '\bfaas_[a-z0-9_]+\(' include/faas.h | tr -d '(' | LC_ALL=C sort -u |
        diff -u --label "include/faas.h (functions)" --label "$LIB (own objects)" - "$TMP/defined"; then
        echo "faas.h and libfaas.a disagree on the functions (- declared only, + exported only)"
        return 1
    fi
}
run "libfaas.a exports exactly tests/c/symbols.txt, all faas_*, as faas.h declares" symbols_test

# --- 4. the C examples under ASan + UBSan ---------------------------------
for ex in echo context stream; do
    if run "examples/$ex.c builds with ASan + UBSan" \
        "$CC" $CSTRICT $SAN -Iinclude "examples/$ex.c" "$LIB" -o "$TMP/$ex-san"; then
        run "$ex-c (ASan + UBSan) against the fake Runtime API" \
            python3 -B tests/c/run_example.py "$ex" -- "$TMP/$ex-san"
        if [ "$ex" = context ]; then
            run "context-c (ASan + UBSan): failing init posts /init/error" \
                python3 -B tests/c/run_example.py context-init-error -- "$TMP/$ex-san"
        fi
    fi
done

# --- 5. a static musl bootstrap under valgrind -----------------------------
# test-c depends only on libfaas.a; the Makefile knows how to build the
# static echo (and whether it is stale).
if run "$STATIC_ECHO is built" "$MAKE" --no-print-directory -s "$STATIC_ECHO"; then
    # Valgrind's own errors exit 99: status 1 is the runtime's normal exit
    # after the fake API's final 500, so it cannot stand for "valgrind found
    # errors". run_example.py also requires "ERROR SUMMARY: 0 errors".
    run "$STATIC_ECHO under valgrind memcheck (leak-check=full), clean" \
        python3 -B tests/c/run_example.py echo -- \
        valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all "$STATIC_ECHO"
fi

printf '\n'
if [ "$failed" -gt 0 ]; then
    printf 'test-c failures:\n' >&2
    printf '  - %s\n' "${failures[@]}" >&2
fi
printf 'test-c: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
