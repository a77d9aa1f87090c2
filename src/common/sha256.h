#pragma once
// SHA-256 (FIPS 180-4), for spec hashes. Kept here so that no program needs a crypto library for it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gitvisor {

class Sha256 {
public:
    Sha256();
    void update(std::string_view data);
    std::array<uint8_t, 32> finish();  // the object must not be updated afterwards

private:
    void block(const uint8_t* data);
    std::array<uint32_t, 8> m_state;
    std::array<uint8_t, 64> m_buffer;
    uint64_t m_length = 0;  // bytes hashed so far
};

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace gitvisor
