#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config {
namespace {

util::Error BadAddr(std::string_view why) {
  return util::Error(util::ErrorCode::kMalformed, std::string(why));
}

bool IsDnsName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char prev = '.';
  for (char c : host) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if (alnum || (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = c;
  }
  return label > 0 && prev != '-';
}

bool AllDigitsAndDots(std::string_view s) {
  for (char c : s) {
    if (c != '.' && (c < '0' || c > '9')) return false;
  }
  return true;
}

}  // namespace

util::Result<HostPort> ParseHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port;
  bool ipv6 = false;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return BadAddr("expected \"[ipv6]:port\"");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    ipv6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return BadAddr("expected \"host:port\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return BadAddr("an IPv6 host must be in brackets: \"[::1]:9444\"");
    }
  }
  if (host.empty()) return BadAddr("missing host (use 0.0.0.0 or [::] for every interface)");
  if (port.empty() || port.size() > 5) return BadAddr("port must be 0 to 65535");
  std::uint32_t p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return BadAddr("port must be 0 to 65535");
    p = p * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (p > 65535) return BadAddr("port must be 0 to 65535");

  std::string h(host);
  if (ipv6) {
    in6_addr a6{};
    if (inet_pton(AF_INET6, h.c_str(), &a6) != 1) return BadAddr("invalid IPv6 address");
  } else if (AllDigitsAndDots(host)) {
    in_addr a4{};
    if (inet_pton(AF_INET, h.c_str(), &a4) != 1) return BadAddr("invalid IPv4 address");
  } else if (!IsDnsName(host)) {
    return BadAddr("invalid host name");
  }
  return HostPort{.host = std::move(h), .port = static_cast<std::uint16_t>(p)};
}

}  // namespace registry::config
