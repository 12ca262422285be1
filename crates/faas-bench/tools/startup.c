/* What a bootstrap executes before it first connects, for `make cold-detail`
 * (x86-64 Linux only): the cold start counted in instructions, which repeat
 * exactly where timings drift.
 *
 *   startup --cpuid-cost     times one CPUID instruction (µs, median of 9)
 *   startup PROGRAM          runs PROGRAM under ptrace, one instruction at a
 *                            time, until it enters connect(2); prints
 *                            "INSTRUCTIONS CPUIDS" and kills it
 *
 * A rep-prefixed string instruction is counted once, not once per iteration
 * (single-stepping traps after each). CPUID matters because under a
 * hypervisor every one is a VM exit (tens of ns on bare metal, microseconds
 * on a nested virtual machine such as this one). PROGRAM gets the caller's
 * environment; set AWS_LAMBDA_RUNTIME_API to an address nothing needs to
 * serve, since it is stopped before the connection is made. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
int main(void) {
    fputs("startup: x86-64 only\n", stderr);
    return 2;
}
#else
#include <cpuid.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cpuid_cost(void) {
    double runs[9];
    for (int r = 0; r < 9; r++) {
        unsigned a, b, c, d, sink = 0;
        double t0 = now_us();
        for (int i = 0; i < 200; i++) {
            __cpuid(0, a, b, c, d);
            sink += a ^ b ^ c ^ d;
        }
        runs[r] = (now_us() - t0) / 200;
        __asm__ volatile("" : : "r"(sink));
    }
    qsort(runs, 9, sizeof runs[0], cmp);
    printf("%.2f\n", runs[4]);
    return 0;
}

/* Is the instruction at `ip` (its first 8 bytes in `w`) a rep-prefixed
 * string instruction? Prefixes: 66/67 (size), F2/F3 (rep), REX (40-4F). */
static int rep_string(unsigned long w) {
    int rep = 0;
    for (int i = 0; i < 8; i++) {
        unsigned b = (w >> (8 * i)) & 0xff;
        if (b == 0xf2 || b == 0xf3) rep = 1;
        else if (b == 0x66 || b == 0x67 || (b >= 0x40 && b <= 0x4f)) continue;
        else return rep && ((b >= 0xa4 && b <= 0xa7) || (b >= 0xaa && b <= 0xaf));
    }
    return 0;
}

static int step(const char *path, char **argv) {
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 2;
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execv(path, argv);
        perror(path);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st)) return fputs("startup: the program did not start\n", stderr), 2;
    /* If this tool dies (a time limit), the program dies with it. */
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)PTRACE_O_EXITKILL);
    unsigned long insns = 0, cpuids = 0;
    for (;;) {
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, pid, NULL, &r) < 0) return perror("PTRACE_GETREGS"), 2;
        errno = 0;
        unsigned long w = (unsigned long)ptrace(PTRACE_PEEKTEXT, pid, (void *)r.rip, NULL);
        if (errno) return perror("PTRACE_PEEKTEXT"), 2;
        if ((w & 0xffff) == 0xa20f) cpuids++;
        if ((w & 0xffff) == 0x050f && r.rax == SYS_connect) break;
        if ((w & 0xffff) == 0x050f && (r.rax == SYS_exit_group || r.rax == SYS_exit)) {
            kill(pid, SIGKILL);
            return fprintf(stderr, "startup: %s exited before it connected\n", path), 1;
        }
        int rep = rep_string(w);
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) < 0) return perror("PTRACE_SINGLESTEP"), 2;
        if (waitpid(pid, &st, 0) < 0) return perror("waitpid"), 2;
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP) {
            kill(pid, SIGKILL);
            return fprintf(stderr, "startup: %s stopped by signal %d before it connected\n", path, WIFSTOPPED(st) ? WSTOPSIG(st) : -1), 1;
        }
        /* A rep string instruction traps once per iteration: count it when
         * it is done, that is when the instruction pointer moves on. */
        if (rep) {
            struct user_regs_struct after;
            if (ptrace(PTRACE_GETREGS, pid, NULL, &after) < 0) return perror("PTRACE_GETREGS"), 2;
            if (after.rip == r.rip) continue;
        }
        insns++;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    printf("%lu %lu\n", insns, cpuids);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--cpuid-cost")) return cpuid_cost();
    if (argc >= 2 && argv[1][0] != '-') return step(argv[1], argv + 1);
    fputs("usage: startup --cpuid-cost | startup PROGRAM [ARGS...]\n", stderr);
    return 2;
}
#endif
