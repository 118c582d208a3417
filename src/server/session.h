// One client connection: reads requests with per-phase deadlines and size
// limits, hands each to the routes, writes the reply, and keeps the
// connection alive when both sides want it.
//
// Thread contract: every handler of a session runs on its strand; a reply
// made on a worker is posted there.
#ifndef STRATA_SERVER_SESSION_H_
#define STRATA_SERVER_SESSION_H_

#include <boost/asio/ip/tcp.hpp>

#include "server/server_context.h"

namespace strata::server {

// Serves `socket` until it closes. `over_capacity`: the server already has
// max_connections open; the client gets a 503 and the connection closes.
void StartSession(ServerContext& cx, boost::asio::ip::tcp::socket socket,
                  bool over_capacity);

}  // namespace strata::server

#endif  // STRATA_SERVER_SESSION_H_
