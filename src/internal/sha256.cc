#include "internal/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <new>

namespace strata::internal {
namespace {

// Fetched once: an implicit fetch per digest costs more than hashing a
// small key.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    // Without its exit handler libcrypto stays usable while static objects
    // are destroyed (a pool in a static, whose cache pins hash on release).
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
    return EVP_MD_fetch(nullptr, "SHA256", nullptr);
  }();
  return md;
}

}  // namespace

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), Sha256Md(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() = default;

void Sha256::Update(std::span<const uint8_t> data) {
  EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

void Sha256::Update(std::string_view text) {
  EVP_DigestUpdate(ctx_.get(), text.data(), text.size());
}

std::array<uint8_t, 32> Sha256::Finish() {
  std::array<uint8_t, 32> digest{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), digest.data(), &len);
  return digest;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    hex.push_back(kDigits[b >> 4]);
    hex.push_back(kDigits[b & 15]);
  }
  return hex;
}

std::string Sha256Hex(std::span<const uint8_t> data) {
  Sha256 sha;
  sha.Update(data);
  return ToHex(sha.Finish());
}

}  // namespace strata::internal
