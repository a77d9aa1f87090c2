#include "exec/clock.h"

#include <sys/random.h>

#include <cerrno>
#include <ctime>

namespace gitvisor::exec {
namespace {

int64_t clock_usec(clockid_t clock) {
    timespec ts{};
    ::clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace

int64_t monotonic_usec() { return clock_usec(CLOCK_MONOTONIC); }
int64_t realtime_usec() { return clock_usec(CLOCK_REALTIME); }

std::string new_invocation_id() {
    unsigned char bytes[16] = {};
    size_t filled = 0;
    while (filled < sizeof bytes) {
        const ssize_t n = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // No entropy source: fall back on the clock, still unique enough to tell runs apart.
            const int64_t now = clock_usec(CLOCK_REALTIME) ^ clock_usec(CLOCK_MONOTONIC);
            for (size_t i = filled; i < sizeof bytes; ++i)
                bytes[i] = static_cast<unsigned char>(now >> (8 * (i % 8)));
            break;
        }
        filled += static_cast<size_t>(n);
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    id.reserve(32);
    for (const unsigned char byte : bytes) {
        id.push_back(kHex[byte >> 4]);
        id.push_back(kHex[byte & 0xF]);
    }
    return id;
}

}  // namespace gitvisor::exec
