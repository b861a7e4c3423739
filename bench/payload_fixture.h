// Payload fixtures shared by the benchmarks. Bench only.
#pragma once

#include <cstddef>
#include <random>
#include <string>

namespace registry::bench {

// A valid payload (version 1 on genesis, one signer) of about `target_bytes`, members in
// non-canonical order.
inline std::string MakePayloadText(std::size_t target_bytes) {
  std::mt19937 rng(7);
  static const char* kRegions[] = {"eu-west-1", "us-east-2", "ap-south-1", "sa-east-1"};
  std::string out =
      "{\"version\":1,\"prev_hash\":\"b3:" + std::string(64, '0') +
      "\",\"governance\":{\"signers\":[{\"pubkey\":\"+3SwUToksBJAUvXPagZhnLqrAmbF6miY5Bqlo8UnKZw="
      "\",\"id\":\"org:alpha#k1\",\"algo\":\"ed25519\"}],\"quorum\":{\"m\":1}},\"items\":[";
  for (int i = 0; out.size() + 2 < target_bytes; ++i) {
    const char* region = kRegions[rng() % 4];
    if (i > 0) out += ',';
    out += "{\"meta\":{\"weight\":" + std::to_string(rng() % 100) + ".5,\"tags\":[\"prod\",\"t" +
           std::to_string(rng() % 9) + "\"],\"owner\":\"team-" + std::to_string(rng() % 40) +
           "\"},\"region\":\"" + region + "\",\"id\":\"node:" + region + "/" + std::to_string(i) +
           "\",\"endpoint\":\"https://n" + std::to_string(i) +
           ".example.net:8443\",\"kind\":\"node\"}";
  }
  out += "]}";
  return out;
}

}  // namespace registry::bench
