// Request/Response helpers declared in registry/http/message.h.
#include "registry/http/message.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "wire.h"

namespace registry::http {

const std::string* Request::FindHeader(std::string_view name) const {
  for (const Header& h : headers) {
    if (h.first == name) return &h.second;
  }
  return nullptr;
}

void Response::SetHeader(std::string name, std::string value) {
  for (Header& h : headers) {
    if (wire::EqualsIgnoreCase(h.first, name)) {
      h.second = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

Response Response::Text(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

}  // namespace registry::http
