// A small synchronous HTTP/1.1 client for the server's tests (Boost.Beast),
// and a server on an ephemeral loopback port built from a config.
#ifndef STRATA_TESTS_HTTP_TEST_CLIENT_H_
#define STRATA_TESTS_HTTP_TEST_CLIENT_H_

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <string>

#include "strata/server.h"
#include "test_support.h"

namespace strata::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using net::ip::tcp;

struct HttpReply {
  unsigned status = 0;  // 0: the connection failed or closed first
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One connection; requests on it are kept alive unless the server closes.
class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : stream_(ioc_) {
    beast::error_code ec;
    stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                    ec);
    connected_ = !ec;
  }

  HttpReply Send(http::verb verb, const std::string& target,
                 const std::string& body = "",
                 const std::map<std::string, std::string>& headers = {}) {
    HttpReply reply;
    if (!connected_) {
      reply.error = "not connected";
      return reply;
    }
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    stream_.expires_after(std::chrono::seconds(60));
    beast::error_code ec;
    http::write(stream_, req, ec);
    if (ec) {
      reply.error = ec.message();
      return reply;
    }
    return Read();
  }

  // Writes raw bytes (malformed requests) and reads one reply (the reply
  // to a HEAD, `head`, has no body whatever its Content-Length says).
  HttpReply SendRaw(const std::string& bytes, bool head = false) {
    beast::error_code ec;
    net::write(stream_.socket(), net::buffer(bytes), ec);
    if (ec) return {0, "", {}, ec.message()};
    return Read(head);
  }

  void WriteRaw(const std::string& bytes) {
    beast::error_code ec;
    net::write(stream_.socket(), net::buffer(bytes), ec);
  }

  // True if the server closed the connection within `timeout`.
  bool ClosedWithin(std::chrono::milliseconds timeout) {
    stream_.expires_after(timeout);
    char byte;
    beast::error_code ec;
    stream_.read_some(net::buffer(&byte, 1), ec);
    return ec && ec != beast::error::timeout;
  }

 private:
  HttpReply Read(bool head = false) {
    HttpReply reply;
    http::response_parser<http::string_body> parser;
    parser.body_limit(uint64_t{1} << 30);
    parser.skip(head);
    beast::error_code ec;
    http::read(stream_, buffer_, parser, ec);
    if (ec) {
      reply.error = ec.message();
      return reply;
    }
    auto res = parser.release();
    reply.status = res.result_int();
    reply.body = res.body();
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      reply.headers[name] = std::string(field.value());
    }
    return reply;
  }

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

inline HttpReply Request(uint16_t port, http::verb verb,
                         const std::string& target, const std::string& body = "",
                         const std::map<std::string, std::string>& headers = {}) {
  HttpClient client(port);
  return client.Send(verb, target, body, headers);
}

// A config for tests: loopback, an ephemeral port, no access log, a small
// engine.
inline ServerConfig TestServerConfig() {
  ServerConfig c;
  c.http.listen = "127.0.0.1:0";
  c.http.io_threads = 2;
  c.http.workers = 2;
  c.access_log.target = "off";
  c.engine.pool_slots = 64;
#if defined(__SANITIZE_THREAD__)
  c.engine.parallel_compilation = false;  // see TestEngine()
#endif
  c.pool.budget_bytes = uint64_t{256} << 20;
  c.pool.max_instances = 32;
  c.pool.maintain_interval = std::chrono::milliseconds(100);
  return c;
}

inline ServedModule Guest(const std::string& name, const std::string& file,
                          ModuleOptions options = {}) {
  return {name, GuestPath(file), options};
}

}  // namespace strata::testing

#endif  // STRATA_TESTS_HTTP_TEST_CLIENT_H_
