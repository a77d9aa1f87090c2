#include "common/sha256.h"

#include <catch2/catch.hpp>
#include <string>

using gitvisor::Sha256;
using gitvisor::sha256_hex;

namespace {

std::string to_hex(const std::array<uint8_t, 32>& digest) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    std::string hex;
    for (uint8_t byte : digest) {
        hex += kHexDigits[byte >> 4];
        hex += kHexDigits[byte & 0x0f];
    }
    return hex;
}

// 200 bytes that are not all alike, so that a misplaced byte changes the digest.
std::string sample_message() {
    std::string message;
    for (int i = 0; i < 200; ++i) {
        message += static_cast<char>((i * 37 + 11) % 256);
    }
    return message;
}

}  // namespace

TEST_CASE("sha256 of the FIPS 180-4 test vectors", "[sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(
              "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
              "opqrsmnopqrstnopqrstu") == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    CHECK(sha256_hex(std::string(1'000'000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 pads correctly at the block boundaries", "[sha256]") {
    // 55 bytes is the longest message whose padding fits in one block; 56 needs a second one.
    CHECK(sha256_hex(std::string(55, 'a')) ==
          "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    CHECK(sha256_hex(std::string(56, 'a')) ==
          "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    CHECK(sha256_hex(std::string(63, 'a')) ==
          "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    CHECK(sha256_hex(std::string(64, 'a')) ==
          "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    CHECK(sha256_hex(std::string(65, 'a')) ==
          "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0");
    CHECK(sha256_hex(std::string(119, 'a')) ==
          "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb");
    CHECK(sha256_hex(std::string(120, 'a')) ==
          "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c");
}

TEST_CASE("sha256 gives the same digest however the input is split", "[sha256]") {
    const std::string message = sample_message();
    const std::string expected = sha256_hex(message);
    const std::string_view view = message;

    for (size_t split = 0; split <= message.size(); ++split) {
        Sha256 hasher;
        hasher.update(view.substr(0, split));
        hasher.update(view.substr(split));
        INFO("split at " << split);
        CHECK(to_hex(hasher.finish()) == expected);
    }

    Sha256 bytewise;
    for (char byte : message) {
        bytewise.update(std::string_view(&byte, 1));
    }
    CHECK(to_hex(bytewise.finish()) == expected);

    Sha256 with_empty_updates;
    with_empty_updates.update({});
    with_empty_updates.update(view.substr(0, 100));
    with_empty_updates.update({});
    with_empty_updates.update(view.substr(100));
    CHECK(to_hex(with_empty_updates.finish()) == expected);
}

TEST_CASE("sha256 hashes every byte value, NUL included", "[sha256]") {
    std::string all_bytes;
    for (int i = 0; i < 256; ++i) {
        all_bytes += static_cast<char>(i);
    }
    CHECK(sha256_hex(all_bytes) == "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880");
    CHECK(sha256_hex(std::string_view("\0", 1)) ==
          "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}
