// SHA-256, used to key and verify the on-disk module cache: OpenSSL's
// libcrypto, which uses the CPU's SHA extensions where there are some (a
// multi-MiB snapshot is checked on every load from disk).
#ifndef STRATA_INTERNAL_SHA256_H_
#define STRATA_INTERNAL_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace strata::internal {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view text);
  std::array<uint8_t, 32> Finish();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::span<const uint8_t> data);
std::string ToHex(std::span<const uint8_t> bytes);

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_SHA256_H_
