#include "common/sha256.h"

#include <algorithm>
#include <cstddef>

namespace gitvisor {

namespace {

// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr std::array<uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 §5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8 primes.
constexpr std::array<uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

constexpr size_t kBlockSize = 64;

constexpr uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

Sha256::Sha256() : m_state(kInitialState), m_buffer{} {}

void Sha256::update(std::string_view data) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
    size_t size = data.size();
    size_t buffered = m_length % kBlockSize;
    m_length += size;

    // 1. Top up a partly filled buffer; hash it once it is full.
    if (buffered > 0) {
        size_t take = std::min(size, kBlockSize - buffered);
        std::copy_n(bytes, take, m_buffer.begin() + static_cast<ptrdiff_t>(buffered));
        bytes += take;
        size -= take;
        if (buffered + take < kBlockSize) {
            return;
        }
        block(m_buffer.data());
    }
    // 2. Hash whole blocks straight from the input, without copying.
    while (size >= kBlockSize) {
        block(bytes);
        bytes += kBlockSize;
        size -= kBlockSize;
    }
    // 3. Keep the tail for the next update or for finish().
    std::copy_n(bytes, size, m_buffer.begin());
}

std::array<uint8_t, 32> Sha256::finish() {
    // Padding (FIPS 180-4 §5.1.1): a 1 bit, zeros up to 56 mod 64 bytes, then the length in bits, big-endian.
    const uint64_t bit_length = m_length * 8;
    size_t buffered = m_length % kBlockSize;
    m_buffer[buffered++] = 0x80;
    if (buffered > kBlockSize - 8) {
        std::fill(m_buffer.begin() + static_cast<ptrdiff_t>(buffered), m_buffer.end(), 0);
        block(m_buffer.data());
        buffered = 0;
    }
    std::fill(m_buffer.begin() + static_cast<ptrdiff_t>(buffered), m_buffer.end() - 8, 0);
    for (size_t i = 0; i < 8; ++i) {
        m_buffer[kBlockSize - 1 - i] = static_cast<uint8_t>(bit_length >> (8 * i));
    }
    block(m_buffer.data());

    std::array<uint8_t, 32> digest{};
    for (size_t i = 0; i < 8; ++i) {
        for (size_t j = 0; j < 4; ++j) {
            digest[4 * i + j] = static_cast<uint8_t>(m_state[i] >> (24 - 8 * j));
        }
    }
    return digest;
}

// One compression of a 64-byte block into m_state (FIPS 180-4 §6.2.2).
void Sha256::block(const uint8_t* data) {
    std::array<uint32_t, 64> w;
    for (size_t t = 0; t < 16; ++t) {
        w[t] = load_be32(data + 4 * t);
    }
    for (size_t t = 16; t < 64; ++t) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }

    uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3];
    uint32_t e = m_state[4], f = m_state[5], g = m_state[6], h = m_state[7];
    for (size_t t = 0; t < 64; ++t) {
        uint32_t sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t choose = (e & f) ^ (~e & g);
        uint32_t t1 = h + sum1 + choose + kRound[t] + w[t];
        uint32_t sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = sum0 + majority;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    m_state[0] += a;
    m_state[1] += b;
    m_state[2] += c;
    m_state[3] += d;
    m_state[4] += e;
    m_state[5] += f;
    m_state[6] += g;
    m_state[7] += h;
}

std::string sha256_hex(std::string_view data) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    Sha256 hasher;
    hasher.update(data);
    std::string hex;
    hex.reserve(64);
    for (uint8_t byte : hasher.finish()) {
        hex += kHexDigits[byte >> 4];
        hex += kHexDigits[byte & 0x0f];
    }
    return hex;
}

}  // namespace gitvisor
