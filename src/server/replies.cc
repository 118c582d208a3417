// Reply builders and the small parsers the handlers share.
#include <boost/url/parse.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "server/handlers.h"

namespace strata::server {

std::optional<Target> ParseTarget(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  Target t;
  t.path = std::string(url->encoded_path());
  for (auto segment : url->segments()) t.segments.push_back(segment);
  for (auto param : url->params()) {
    t.params.emplace_back(param.key, param.has_value ? param.value : "");
  }
  return t;
}

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Response MakeReply(http::status status, unsigned version, Bytes body,
               std::string_view content_type) {
  Response res{status, version};
  res.set(http::field::server, "strata");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response JsonReply(http::status status, unsigned version,
                   const nlohmann::json& json) {
  std::string text =
      json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  return MakeReply(status, version, ToBytes(text), "application/json");
}

Response TextReply(http::status status, unsigned version,
                   std::string_view text) {
  return MakeReply(status, version, ToBytes(text), "text/plain; charset=utf-8");
}

Response StatusReply(http::status http_status, const Status& status,
                     unsigned version, uint32_t retry_after_s) {
  return ErrorReply(http_status, ErrorCodeName(status.code()),
                    status.message(), version, retry_after_s);
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

Response MethodNotAllowed(unsigned v, const char* allow) {
  Response res = ErrorReply(http::status::method_not_allowed,
                            "method_not_allowed",
                            std::string("allowed: ") + allow, v);
  res.set(http::field::allow, allow);
  return res;
}

Response ErrorReply(http::status status, const std::string& code,
                    const std::string& message, unsigned version,
                    uint32_t retry_after_s) {
  Response res = JsonReply(status, version,
                           {{"error", code}, {"message", message}});
  if (status == http::status::service_unavailable) {
    res.set(http::field::retry_after, std::to_string(retry_after_s));
  }
  return res;
}

}  // namespace strata::server
