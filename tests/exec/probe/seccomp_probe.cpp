// A helper program for tests/exec/seccomp_test.cpp: makes one system call the way another ABI would,
// which a seccomp filter must not let through. Prints what the call returned.

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
    const std::string_view what = argc > 1 ? argv[1] : "";
#if defined(__x86_64__)
    if (what == "i386-getpid") {
        // The i386 entry point: eax 20 is getpid there.
        long result = 20;
        asm volatile("int $0x80" : "+a"(result) : : "memory", "r8", "r9", "r10", "r11");
        std::printf("i386=%ld\n", result);
        return 0;
    }
    if (what == "x32-getpid") {
        const long result = ::syscall(0x40000000L | SYS_getpid);
        std::printf("x32=%ld errno=%d\n", result, result < 0 ? errno : 0);
        return 0;
    }
#endif
    std::printf("unsupported %.*s\n", static_cast<int>(what.size()), what.data());
    return 0;
}
