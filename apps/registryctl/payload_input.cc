#include "payload_input.h"

#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/model/proposal.h"

namespace registry::ctl {

util::Result<model::CanonicalPayload> LoadCanonicalPayload(std::string_view bytes,
                                                           const model::PayloadLimits& limits) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value value, json::Parse(bytes));
  const bool is_request = value.Find("payload") != nullptr && value.Find("version") == nullptr;
  if (is_request) return model::DecodeProposeRequest(value, limits);
  return model::MakeCanonicalPayload(value, limits);
}

}  // namespace registry::ctl
