// SHA-256 (FIPS 180-4), used to key and verify the on-disk module cache.
#ifndef STRATA_INTERNAL_SHA256_H_
#define STRATA_INTERNAL_SHA256_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace strata::internal {

class Sha256 {
 public:
  Sha256();
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view text);
  std::array<uint8_t, 32> Finish();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_;
  uint64_t total_bytes_ = 0;
};

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::span<const uint8_t> data);
std::string ToHex(std::span<const uint8_t> bytes);

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_SHA256_H_
