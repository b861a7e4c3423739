// RegistryGen: a deterministic generator of evolving registries for storage tests. It keeps
// a list of descriptors (json::Value objects) and changes it version after version
// (insertions, deletions, modifications, moves), and builds each version's canonical
// payload (json::Canonicalize) and commit record (model::EncodeCommitRecordCanonical).
// Descriptor strings mix the characters a scanner could trip on ([ ] { } , " \ and
// control characters), non-ASCII text, and optional large meta. Tests only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"

namespace registry::storage::testing {

struct GenOptions {
  bool tricky_strings = true;  // brackets, quotes, escapes, unicode in strings
  int large_meta_percent = 5;  // share of descriptors with a ~4 KiB meta
};

class RegistryGen {
 public:
  RegistryGen(std::uint64_t seed, int initial_items, GenOptions options = {})
      : rng_(seed), options_(options) {
    for (int i = 0; i < initial_items; ++i) items_.push_back(NewDescriptor());
  }

  // Applies `changes` random edits.
  void Evolve(int changes) {
    std::uniform_int_distribution<int> kind(0, 3);
    for (int c = 0; c < changes; ++c) {
      switch (items_.empty() ? 0 : kind(rng_)) {
        case 0:  // insert
          items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(Index(items_.size() + 1)),
                        NewDescriptor());
          break;
        case 1:  // delete
          items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(Index(items_.size())));
          break;
        case 2: {  // modify in place
          json::Value& meta = items_[Index(items_.size())].as_object().back().second;
          meta.as_object().back().second = json::Value("changed " + RandomString(24));
          break;
        }
        case 3: {  // move
          const std::size_t from = Index(items_.size());
          json::Value moved = std::move(items_[from]);
          items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(from));
          items_.insert(items_.begin() + static_cast<std::ptrdiff_t>(Index(items_.size() + 1)),
                        std::move(moved));
          break;
        }
      }
    }
  }

  // Moves a random block of items to the end (a big reorder).
  void Rotate() {
    if (items_.size() < 2) return;
    const std::size_t k = Index(items_.size());
    std::rotate(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(k), items_.end());
  }

  std::size_t size() const { return items_.size(); }

  std::string CanonicalPayload(std::uint64_t version) const {
    json::Array items = items_;
    json::Value payload = json::MakeObject(
        {{"version", version},
         {"prev_hash", "b3:" + std::string(64, version % 2 == 0 ? 'a' : 'b')},
         {"created_at", "2026-11-26T12:00:00Z"},
         {"governance",
          json::MakeObject(
              {{"quorum", json::MakeObject({{"m", 2}})},
               {"signers",
                json::Array{json::MakeObject({{"algo", "ed25519"},
                                              {"id", "org:alpha#k1"},
                                              {"pubkey", std::string(43, 'A') + "="}}),
                            json::MakeObject({{"algo", "ed25519"},
                                              {"id", "org:beta#k1"},
                                              {"pubkey", std::string(43, 'B') + "="}})}}})},
         {"items", json::Value(std::move(items))}});
    return json::Canonicalize(payload);
  }

  // The commit record of `version` around `canonical_payload`, with two approvals.
  std::string Record(std::uint64_t version, const std::string& canonical_payload) {
    std::vector<model::Approval> approvals;
    for (const char* signer : {"org:alpha#k1", "org:beta#k1"}) {
      model::Approval a;
      a.signer_id = signer;
      a.algo = "ed25519";
      for (auto& b : a.sig) b = static_cast<std::uint8_t>(rng_());
      a.signed_at = "2026-11-26T12:00:00Z";
      a.signed_at_ms = 1'795'000'000'000;
      approvals.push_back(a);
    }
    return model::EncodeCommitRecordCanonical(version, canonical_payload,
                                              crypto::PayloadB3(canonical_payload), approvals,
                                              "2026-11-26T12:00:00.000Z");
  }

 private:
  std::size_t Index(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

  std::string RandomString(std::size_t max_len) {
    static const char* const kPlain[] = {"a", "b", "node", "-", ".", "7", ":", "/"};
    static const char* const kTricky[] = {"[",
                                          "]",
                                          "{",
                                          "}",
                                          ",",
                                          "\"",
                                          "\\",
                                          "\\\"",
                                          "\n",
                                          "\t",
                                          "\x01",
                                          "\x1f",
                                          "\xc3\xa9",
                                          "\xe2\x80\xa8",
                                          "\xf0\x9f\x98\x80",
                                          "\xef\xbf\xbf",
                                          "],",
                                          "\":"};
    std::string out;
    const std::size_t len = Index(max_len + 1);
    for (std::size_t i = 0; i < len; ++i) {
      if (options_.tricky_strings && Index(3) == 0) {
        out += kTricky[Index(std::size(kTricky))];
      } else {
        out += kPlain[Index(std::size(kPlain))];
      }
    }
    return out;
  }

  json::Value NewDescriptor() {
    const std::uint64_t n = next_id_++;
    json::Object meta;
    meta.emplace_back("n", static_cast<std::uint64_t>(n));
    meta.emplace_back("tags", json::Array{json::Value(RandomString(8)), json::Value(true),
                                          json::Value(nullptr), json::Value(1.5)});
    if (Index(100) < static_cast<std::size_t>(options_.large_meta_percent)) {
      meta.emplace_back("blob", std::string(4096, 'x') + RandomString(16));
    }
    meta.emplace_back("note", RandomString(24));
    // "note" is last: Evolve modifies the last member.
    return json::MakeObject({{"kind", "node"},
                             {"id", "node:" + std::to_string(n)},
                             {"endpoint", "https://n" + std::to_string(n) + ".example:8443"},
                             {"region", "eu-" + RandomString(4)},
                             {"meta", json::Value(std::move(meta))}});
  }

  std::mt19937_64 rng_;
  GenOptions options_;
  std::vector<json::Value> items_;
  std::uint64_t next_id_ = 1;
};

}  // namespace registry::storage::testing
