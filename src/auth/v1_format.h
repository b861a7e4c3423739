// Strict reader of libmacaroons' V1 token format (internal to the auth module).
//
// libmacaroons 0.3's macaroon_deserialize is not safe on hostile input: a packet whose length
// header is "0000" makes it loop forever, and an input decoding to '{' leaks memory. So no
// client bytes reach it directly: a token is first decoded and checked here, and only the
// canonical re-encoding of a well-formed macaroon is handed to the library.
//
// V1 format: URL-safe base64 (no padding) of a sequence of packets, each
//   <4 lower-case hex digits: packet length, header included><key> <value>\n
// in the order: location, identifier, zero or more "cid" (first-party caveat), signature
// (32-byte value). Third-party caveat packets ("vid", "cl") are not accepted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace registry::auth::internal {

// The canonical token for `token` if it is a well-formed V1 macaroon with first-party caveats
// only, else nullopt. Pure; thread-safe.
std::optional<std::string> CanonicalV1Token(std::string_view token);

}  // namespace registry::auth::internal
