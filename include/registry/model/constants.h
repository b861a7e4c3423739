// Format constants of the data model (SPEC §1). Pure layout facts, no behaviour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace registry::model {

// schema_version of commit records and proposal requests.
inline constexpr std::string_view kSchemaVersion = "1.0.0";

// The 20 ASCII bytes every approval signature starts with (SPEC §1.5).
inline constexpr std::string_view kApprovalContext = "ron:svc-registry:v1\n";

inline constexpr std::string_view kAlgoEd25519 = "ed25519";

inline constexpr std::size_t kMaxSigners = 256;
inline constexpr std::size_t kMaxKindLength = 32;
inline constexpr std::size_t kMaxIdLength = 256;
inline constexpr std::size_t kMaxEndpointLength = 2048;
inline constexpr std::size_t kMaxRegionLength = 64;
inline constexpr std::size_t kMaxMetaDepth = 16;
inline constexpr std::size_t kMaxSupersedeNoteLength = 1024;
inline constexpr std::size_t kDefaultMaxItems = 100000;

// "p_" + 24 hex digits.
inline constexpr std::size_t kProposalIdLength = 26;

}  // namespace registry::model
