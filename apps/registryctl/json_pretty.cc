#include "json_pretty.h"

#include <algorithm>
#include <vector>

#include "registry/json/canonical.h"

namespace registry::ctl {

namespace {

void Append(const json::Value& v, int indent, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  const std::string close_pad(static_cast<std::size_t>(indent), ' ');
  switch (v.type()) {
    case json::Type::kNull:
    case json::Type::kBool:
    case json::Type::kNumber:
    case json::Type::kString:
      json::AppendCanonical(v, out);
      return;
    case json::Type::kArray: {
      const json::Array& a = v.as_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      for (std::size_t i = 0; i < a.size(); ++i) {
        out += pad;
        Append(a[i], indent + 2, out);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      out += close_pad + "]";
      return;
    }
    case json::Type::kObject: {
      const json::Object& o = v.as_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      std::vector<const json::Member*> members;
      members.reserve(o.size());
      for (const json::Member& m : o) members.push_back(&m);
      std::sort(members.begin(), members.end(), [](const json::Member* a, const json::Member* b) {
        return json::Utf16Less(a->first, b->first);
      });
      out += "{\n";
      for (std::size_t i = 0; i < members.size(); ++i) {
        out += pad;
        json::AppendCanonicalString(members[i]->first, out);
        out += ": ";
        Append(members[i]->second, indent + 2, out);
        out += i + 1 < members.size() ? ",\n" : "\n";
      }
      out += close_pad + "}";
      return;
    }
  }
}

}  // namespace

std::string PrettyJson(const json::Value& value) {
  std::string out;
  Append(value, 0, out);
  out.push_back('\n');
  return out;
}

}  // namespace registry::ctl
