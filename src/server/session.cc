#include "server/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <array>
#include <memory>
#include <optional>

#include "server/routes.h"

namespace strata::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using beast::error_code;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerContext& cx, net::ip::tcp::socket socket)
      : cx_(cx), stream_(std::move(socket)) {
    cx_.connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Session() {
    SetBusy(false);
    cx_.connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void Start(bool over_capacity) {
    over_capacity_ = over_capacity;
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->WaitForRequest(); });
  }

 private:
  // Idle phase: a kept-alive connection waits for its next request's first
  // bytes (unless they arrived with the last one).
  void WaitForRequest() {
    const HttpOptions& o = cx_.config.http;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(o.max_header_bytes));
    // Beast checks Content-Length against its body limit (1 MiB by
    // default) while reading the headers; the route's own limit is set
    // once they are read.
    parser_->body_limit(std::max(o.max_body_bytes, o.max_upload_bytes));
    if (buffer_.size() > 0) return ReadHeader();
    // A new connection must send its first request promptly; only a
    // kept-alive one may idle.
    stream_.expires_after(requests_ == 0 ? o.header_timeout : o.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](error_code ec, size_t n) {
          if (ec) return self->Close();
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    arrived_ = std::chrono::steady_clock::now();
    bytes_in_ = 0;  // a request refused at its headers logs none read
    ++requests_;
    SetBusy(true);
    stream_.expires_after(cx_.config.http.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(error_code ec) {
    if (ec == http::error::body_limit) {
      return Refuse(http::status::payload_too_large, "payload_too_large",
                    "body is over the server's limits (max_body_bytes " +
                        std::to_string(cx_.config.http.max_body_bytes) +
                        ", max_upload_bytes " +
                        std::to_string(cx_.config.http.max_upload_bytes) +
                        ")");
    }
    if (ec == http::error::header_limit) {
      return Refuse(http::status::request_header_fields_too_large,
                    "request_header_too_large",
                    "request headers are over server.max_header_bytes (" +
                        std::to_string(cx_.config.http.max_header_bytes) +
                        " bytes)");
    }
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == net::error::eof || ec == net::error::connection_reset) {
      return Close();  // a slow or gone client: nobody to answer
    }
    if (ec) {
      return Refuse(http::status::bad_request, "bad_request",
                    "malformed request: " + ec.message());
    }
    if (over_capacity_) return RefuseConnection();
    const auto& header = parser_->get();
    // Refusals that do not need the body (an admin route without the
    // token) are answered before it is read, let alone buffered.
    BodyPolicy policy = ForHeaders(cx_, header);
    if (policy.refusal) {
      method_ = std::string(header.method_string());
      path_ = std::string(header.target());
      keep_alive_ = false;
      Exchange ex;
      ex.route = "refused";
      return Write(std::move(*policy.refusal), ex);
    }
    size_t limit = body_limit_ = policy.limit;
    parser_->body_limit(limit);
    if (auto length = parser_->content_length(); length && *length > limit) {
      return Refuse(http::status::payload_too_large, "payload_too_large",
                    "body of " + std::to_string(*length) +
                        " bytes is over the limit of " +
                        std::to_string(limit) + " bytes");
    }
    if (header.version() >= 11 &&
        beast::iequals(header[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, header.version());
      return http::async_write(
          stream_, *continue_,
          [self = shared_from_this()](error_code ec, size_t) {
            if (ec) return self->Close();
            self->ReadBody();
          });
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(cx_.config.http.body_timeout);
    // A flat_buffer reads at most its free capacity at a time: without
    // room, a 100 KB page takes about 25 reads of 4 KiB.
    if (auto length = parser_->content_length()) {
      buffer_.reserve(static_cast<size_t>(std::min<uint64_t>(*length, kReadAhead)));
    }
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->OnBody(ec);
                     });
  }

  // Most a connection reads ahead into its buffer (the buffer shrinks back
  // once the body is read).
  static constexpr uint64_t kReadAhead = 1 << 20;
  static constexpr size_t kKeptBuffer = 64 << 10;

  void OnBody(error_code ec) {
    if (buffer_.capacity() > kKeptBuffer) buffer_.shrink_to_fit();
    if (ec == http::error::body_limit) {
      return Refuse(http::status::payload_too_large, "payload_too_large",
                    "body is over the limit of " +
                        std::to_string(body_limit_) +
                        " bytes");
    }
    if (ec == beast::error::timeout || ec == http::error::partial_message ||
        ec == net::error::eof || ec == net::error::connection_reset) {
      return Close();
    }
    if (ec) {
      return Refuse(http::status::bad_request, "bad_request",
                    "malformed request: " + ec.message());
    }
    stream_.expires_never();  // the call's own deadlines bound what follows
    Request request = parser_->release();
    method_ = std::string(request.method_string());
    path_ = std::string(request.target());
    bytes_in_ = request.body().size();
    keep_alive_ = request.keep_alive();
    // The acquire timeout counts from here: reading the body was the
    // client's time, not the pool's.
    HandleRequest(cx_, std::move(request), std::chrono::steady_clock::now(),
                  [self = shared_from_this()](Response res, Exchange ex) {
                    // From a worker or this strand: write on the strand.
                    net::post(self->stream_.get_executor(),
                              [self, res = std::move(res),
                               ex = std::move(ex)]() mutable {
                                self->Write(std::move(res), std::move(ex));
                              });
                  });
  }

  // Answers a request that cannot be read further, then closes.
  void Refuse(http::status status, const std::string& code,
              const std::string& message) {
    keep_alive_ = false;
    method_ = std::string(parser_->get().method_string());
    path_ = std::string(parser_->get().target());
    Exchange ex;
    ex.route = "refused";
    Write(ErrorReply(status, code, message, 11, cx_.config.http.retry_after_s),
          ex);
  }

  // Past max_connections: the request's headers are read (so the client
  // sees the reply rather than a reset), then 503 and close.
  void RefuseConnection() {
    cx_.metrics.Rejected("connections");
    Refuse(http::status::service_unavailable, "too_many_connections",
           "the server has server.max_connections (" +
               std::to_string(cx_.config.http.max_connections) +
               ") connections open");
  }

  void Write(Response res, const Exchange& ex) {
    bool keep = keep_alive_ && !cx_.draining.load();
    res.keep_alive(keep);
    unsigned code = res.result_int();
    if (code < 200 || code == 204 || code == 304) {
      // No body and no Content-Length (RFC 9110 8.6); Beast's
      // prepare_payload would add "Content-Length: 0".
      res.body().clear();
    } else {
      res.prepare_payload();
    }
    if (method_ == "HEAD") {  // the headers of a GET, without its body
      size_t length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    auto latency = std::chrono::steady_clock::now() - arrived_;
    unsigned status = res.result_int();
    cx_.metrics.Record(ex.route, status, latency);
    res.set("X-Strata-Node", cx_.config.http.node_id);
    cx_.access_log->Write({cx_.config.http.node_id, method_, path_, ex.route, ex.module, ex.export_name,
                           ex.served_from, status, latency, bytes_in_,
                           res.body().size()});
    response_ = std::make_shared<Response>(std::move(res));
    stream_.expires_after(cx_.config.http.write_timeout);
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep](error_code ec, size_t) {
                        self->response_.reset();
                        self->SetBusy(false);
                        if (ec) return self->Close();
                        if (!keep) return self->Linger();
                        self->WaitForRequest();
                      });
  }

  void Close() {
    SetBusy(false);
    error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // Closing a socket with unread input resets the connection, and the
  // client may lose the reply just sent (a refused body, say). So: stop
  // sending, read and discard what still comes for a moment, then close.
  void Linger() {
    SetBusy(false);
    error_code ignored;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    Discard();
  }

  void Discard() {
    stream_.async_read_some(
        net::buffer(discard_),
        [self = shared_from_this()](error_code ec, size_t) {
          if (ec) return self->stream_.close();
          self->Discard();
        });
  }

  void SetBusy(bool busy) {
    if (busy == busy_) return;
    busy_ = busy;
    if (busy) {
      cx_.busy.fetch_add(1, std::memory_order_acq_rel);
    } else {
      cx_.busy.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  ServerContext& cx_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::vector_body<uint8_t>>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::shared_ptr<Response> response_;  // alive while being written
  TimePoint arrived_;
  std::string method_, path_;
  uint64_t bytes_in_ = 0;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool over_capacity_ = false;
  uint64_t requests_ = 0;  // started on this connection
  size_t body_limit_ = 0;  // the current request's
  std::array<char, 4096> discard_;
};

}  // namespace

void StartSession(ServerContext& cx, net::ip::tcp::socket socket,
                  bool over_capacity) {
  std::make_shared<Session>(cx, std::move(socket))->Start(over_capacity);
}

}  // namespace strata::server
