// libFuzzer target: raw bytes through the whole request path below the socket: the server's
// request parser (src/http/request_reader.h) cuts them into pipelined requests, and each
// finished request goes to ApiService (or, when the first input byte is odd, AdminService)
// exactly as the server hands it over. The service runs over a MemoryStore holding two
// committed versions, a MerkleLog and a log signer (so reads, proofs, the checkpoint and
// the stream with Last-Event-ID/?since= all answer), with auth mode none (so the write
// plane decodes what it is sent) and a manual clock.
//
// Properties on every request (a violation aborts, which libFuzzer reports):
//  1. Nothing crashes, leaks or trips a sanitizer; the responder is called exactly once
//     (a handler that never answers hangs the input, which -timeout reports).
//  2. Hostile input is answered, never a 500: the status is in 200..599 and not 500.
//  3. An error status (>= 400) carries the SPEC §2.3 body, {"error":{"code":"...",...}},
//     unless the method is HEAD.
//  4. A streaming response opens and closes cleanly against a recording sink.
//
// The service lives for the whole run (it is costly to build), so proposals the fuzzer
// makes accumulate; none can be committed without the signers' keys.
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/api/service.h"
#include "registry/bus/event_bus.h"
#include "registry/core/audit_log.h"
#include "registry/core/merkle_log.h"
#include "registry/core/registry.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/http/message.h"
#include "registry/json/parse.h"
#include "registry/metrics/metrics.h"
#include "registry/model/payload.h"
#include "registry/storage/memory_store.h"
#include "registry/tlog/log_signer.h"
#include "registry/tlog/note_key.h"
#include "registry/util/check.h"
#include "registry/util/clock.h"
#include "registry/util/thread_pool.h"
#include "request_reader.h"
#include "testing/fixtures.h"

namespace {

namespace api = registry::api;
namespace core = registry::core;
namespace http = registry::http;
using http::internal::ParseLimits;
using http::internal::RequestReader;

#define FUZZ_CHECK(cond, what)                                                 \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "api_request_fuzz: property violated: %s\n", what); \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

// 2026-11-26T12:00:00Z, fixed: proposals never expire during a run.
constexpr registry::util::UnixMillis kNow = 1'795'694'400'000;
constexpr ParseLimits kLimits{/*max_header_bytes=*/8192, /*max_body_bytes=*/65536};

// Records what a stream pushes; thread-safe (the bus may push from a committing thread).
class RecordingSink final : public http::StreamSink {
 public:
  bool Push(std::shared_ptr<const std::string> chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    FUZZ_CHECK(chunk != nullptr, "stream pushed a null chunk");
    ++chunks_;
    return true;
  }
  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  bool closed() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  mutable std::mutex mu_;
  bool closed_ = false;
  std::size_t chunks_ = 0;
};

// The service stack of apps/svc-registry/run.cc, in memory. Built once, never destroyed
// (it stays reachable, so LeakSanitizer does not report it).
struct Env {
  Env() : clock(kNow) {
    registry::crypto::Init();
    signers = registry::testing::MakeSigners("fuzz", 3);
    governance = registry::testing::MakeGovernance(signers, 2);
    auto opened = core::Registry::Open(&store, &clock, governance, core::RegistryOptions{});
    REGISTRY_CHECK(opened.ok(), "api_request_fuzz: Registry::Open failed");
    registry = std::move(opened).value();
    CommitVersions(2);

    auto audit_log = core::AuditLog::Open(&store, &clock);
    REGISTRY_CHECK(audit_log.ok(), "api_request_fuzz: AuditLog::Open failed");
    audit = std::move(audit_log).value();

    registry::bus::EventBus::Options bus_options;
    bus_options.max_subscribers = 4;
    bus = std::make_unique<registry::bus::EventBus>(
        bus_options, [this] { return registry->Head()->head; }, [] {});
    bus->Seed(registry->RecentEvents(bus_options.window));

    registry::crypto::Ed25519Seed log_seed{};
    log_seed.fill(0x42);
    log_signer = std::make_unique<registry::tlog::LogSigner>(
        registry::tlog::NoteSigningKey("fuzz.example/log", log_seed));

    workers = std::make_unique<registry::util::ThreadPool>(1);
    api::Deps deps;
    deps.registry = registry.get();
    deps.store = &store;
    deps.metrics = &metrics;
    deps.bus = bus.get();
    deps.verifier = nullptr;  // auth.mode = none: the write plane decodes every body
    deps.clock = &clock;
    deps.workers = workers.get();
    deps.gate = &gate;
    deps.audit = audit.get();
    deps.merkle_log = &merkle_log;
    deps.log_signer = log_signer.get();
    api::ApiOptions options;
    options.build = api::BuildInfo{"0.0.0-fuzz", "fuzz"};
    options.record_cache_entries = 4;
    options.sse_queue_len = 8;
    api_service = std::make_unique<api::ApiService>(deps, options, nullptr);
    admin_service = std::make_unique<api::AdminService>(deps, options, nullptr);
    registry->SetCommitListener(api_service.get());
  }

  // Versions 1..n, each approved by the first two signers, committed through the core.
  void CommitVersions(std::uint64_t n) {
    std::string prev = registry::crypto::ZeroB3();
    for (std::uint64_t v = 1; v <= n; ++v) {
      registry::model::CanonicalPayload cp = registry::testing::MakeCanonical(
          registry::testing::MakePayloadValue(v, prev, governance, 2, "seed"));
      const std::string id = cp.proposal_id;
      const std::string b3 = cp.payload_b3;
      REGISTRY_CHECK(registry->Propose(std::move(cp)).ok(), "api_request_fuzz: propose");
      for (int i = 0; i < 2; ++i) {
        REGISTRY_CHECK(registry->Approve(id, registry::testing::Sign(signers[i], b3, kNow)).ok(),
                       "api_request_fuzz: approve");
      }
      REGISTRY_CHECK(registry->Commit(id).ok(), "api_request_fuzz: commit");
      prev = b3;
    }
  }

  registry::util::ManualClock clock;
  std::vector<registry::testing::TestSigner> signers;
  registry::model::Governance governance;
  registry::storage::MemoryStore store;
  std::unique_ptr<core::Registry> registry;
  std::unique_ptr<core::AuditLog> audit;
  registry::metrics::Metrics metrics;
  std::unique_ptr<registry::bus::EventBus> bus;
  std::unique_ptr<registry::tlog::LogSigner> log_signer;
  core::MerkleLog merkle_log;
  std::unique_ptr<registry::util::ThreadPool> workers;
  api::WriteGate gate;
  std::unique_ptr<api::ApiService> api_service;
  std::unique_ptr<api::AdminService> admin_service;
};

Env& TheEnv() {
  static Env* env = new Env();
  return *env;
}

// Calls `handler` with `request` and waits for the one response.
http::Response Call(http::Handler& handler, http::Request request) {
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<http::Response> response;
    int calls = 0;
  };
  auto slot = std::make_shared<Slot>();
  handler.Handle(std::move(request), [slot](http::Response r) {
    std::lock_guard<std::mutex> lock(slot->mu);
    ++slot->calls;
    FUZZ_CHECK(slot->calls == 1, "responder called more than once");
    slot->response = std::move(r);
    slot->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(slot->mu);
  slot->cv.wait(lock, [&] { return slot->response.has_value(); });
  return std::move(*slot->response);
}

void CheckResponse(const http::Request& request, http::Response& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599, "status outside 200..599");
  if (r.status == 500) {
    std::fprintf(stderr, "api_request_fuzz: 500 for %s %s: %s\n", request.method.c_str(),
                 request.target.c_str(), r.body != nullptr ? r.body->c_str() : "");
  }
  FUZZ_CHECK(r.status != 500, "hostile input answered 500");
  if (r.status >= 400 && request.method != "HEAD") {
    if (r.body == nullptr || !registry::json::Parse(*r.body).ok()) {
      std::fprintf(stderr, "api_request_fuzz: %d for %s %s: %.200s\n", r.status,
                   request.method.c_str(), request.target.c_str(),
                   r.body != nullptr ? r.body->c_str() : "(no body)");
    }
    FUZZ_CHECK(r.body != nullptr, "error response without a body");
    auto body = registry::json::Parse(*r.body);
    FUZZ_CHECK(body.ok(), "error body is not JSON");
    const registry::json::Value* error = body->Find("error");
    FUZZ_CHECK(error != nullptr && error->is_object(), "error body without an error object");
    const registry::json::Value* code = error->Find("code");
    FUZZ_CHECK(code != nullptr && code->is_string() && !code->as_string().empty(),
               "error body without a code");
  }
  if (r.stream.has_value()) {
    auto sink = std::make_shared<RecordingSink>();
    if (r.stream->on_open) r.stream->on_open(sink);
    sink->Close();
    if (r.stream->on_closed) r.stream->on_closed();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Env& env = TheEnv();
  http::Handler& handler = (data[0] & 1) != 0 ? static_cast<http::Handler&>(*env.admin_service)
                                              : static_cast<http::Handler&>(*env.api_service);
  std::string buffer(reinterpret_cast<const char*>(data + 1), size - 1);

  RequestReader reader(kLimits);
  // At most 16 pipelined requests per input keep one input fast.
  for (int n = 0; n < 16 && !buffer.empty(); ++n) {
    reader.Reset();
    bool done = false;
    while (!done) {
      const RequestReader::Step step = reader.Feed(buffer);
      FUZZ_CHECK(step.consumed <= buffer.size(), "parser consumed more than it was given");
      buffer.erase(0, step.consumed);
      switch (step.state) {
        case RequestReader::State::kNeedMore:
          return 0;  // the input ends inside a request: the connection would wait
        case RequestReader::State::kHeaderDone:
          break;
        case RequestReader::State::kError:
          return 0;  // the server answers 4xx itself and closes
        case RequestReader::State::kDone:
          done = true;
          break;
      }
    }
    http::Request request = reader.request();
    request.remote = "127.0.0.1:4242";
    request.received_at = std::chrono::steady_clock::now();
    http::Request copy = request;
    http::Response response = Call(handler, std::move(request));
    CheckResponse(copy, response);
    // POST /admin/freeze would close the write plane for the rest of the run.
    env.gate.SetFrozen(false);
  }
  return 0;
}
