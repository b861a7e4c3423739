#include "harness.h"

#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include "registry/auth/token.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/util/clock.h"
#include "registry/util/hex.h"
#include "testing/vectors.h"

#ifndef SVC_REGISTRY_PATH
#error "SVC_REGISTRY_PATH must name the svc-registry binary"
#endif

namespace registry::itest {

namespace {

constexpr std::chrono::milliseconds kStartTimeout{10000};
// drain_deadline (3 s) plus slack for a loaded machine.
constexpr std::chrono::milliseconds kStopTimeout{15000};

bool HasHeader(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < n.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(n[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return true;
  }
  return false;
}

util::UnixMillis NowMillis() { return util::SystemClock().NowMillis(); }

}  // namespace

// ---- JSON ----

json::Value ParseJsonOrFail(std::string_view text) {
  util::Result<json::Value> v = json::Parse(text);
  if (!v.ok()) {
    ADD_FAILURE() << "not JSON (" << v.error().message() << "): " << text.substr(0, 400);
    return json::Value();
  }
  return std::move(v).value();
}

const json::Value* JsonAt(const json::Value& v, std::initializer_list<std::string_view> path) {
  const json::Value* cur = &v;
  for (std::string_view name : path) {
    cur = cur->Find(name);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::string JsonStr(const json::Value& v, std::initializer_list<std::string_view> path) {
  const json::Value* x = JsonAt(v, path);
  if (x == nullptr) return "<absent>";
  if (!x->is_string()) return "<not a string>";
  return x->as_string();
}

std::optional<std::int64_t> JsonInt(const json::Value& v,
                                    std::initializer_list<std::string_view> path) {
  const json::Value* x = JsonAt(v, path);
  if (x == nullptr) return std::nullopt;
  return x->AsSafeInteger();
}

// ---- Assertions ----

::testing::AssertionResult HasStatus(const HttpResponse& r, int status) {
  if (r.status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected status " << status << ", got " << r.Describe();
}

::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code) {
  if (r.status != status) {
    return ::testing::AssertionFailure()
           << "expected " << status << " " << code << ", got " << r.Describe();
  }
  std::optional<std::string> ct = r.Header("content-type");
  if (!ct || ct->rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure() << "error without a JSON content type: " << r.Describe();
  }
  util::Result<json::Value> body = json::Parse(r.body);
  if (!body.ok()) {
    return ::testing::AssertionFailure() << "error body is not JSON: " << r.Describe();
  }
  const json::Value* error = body->Find("error");
  if (error == nullptr || !error->is_object()) {
    return ::testing::AssertionFailure() << "no \"error\" object: " << r.Describe();
  }
  if (JsonStr(*error, {"code"}) != code) {
    return ::testing::AssertionFailure() << "expected code " << code << ", got "
                                         << JsonStr(*error, {"code"}) << ": " << r.Describe();
  }
  const json::Value* message = error->Find("message");
  if (message == nullptr || !message->is_string() || message->as_string().empty()) {
    return ::testing::AssertionFailure() << "error without a message: " << r.Describe();
  }
  const json::Value* details = error->Find("details");
  if (details == nullptr || !details->is_object()) {
    return ::testing::AssertionFailure() << "error without a details object: " << r.Describe();
  }
  std::optional<std::string> corr = r.Header("x-corr-id");
  if (!corr || JsonStr(*error, {"corr_id"}) != *corr) {
    return ::testing::AssertionFailure()
           << "error.corr_id does not equal the X-Corr-ID header: " << r.Describe();
  }
  if (status == 429 || status == 503) {
    std::optional<std::string> ra = r.Header("retry-after");
    if (!ra || ra->empty() ||
        !std::all_of(ra->begin(), ra->end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoll(*ra) < 1) {
      return ::testing::AssertionFailure()
             << status << " without a positive Retry-After: " << r.Describe();
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- Metrics ----

std::optional<double> MetricsText::Value(std::string_view name,
                                         const std::map<std::string, std::string>& labels) const {
  std::optional<double> found;
  for (const MetricSample& s : samples) {
    if (s.name != name) continue;
    bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
      auto it = s.labels.find(kv.first);
      return it != s.labels.end() && it->second == kv.second;
    });
    if (!match) continue;
    if (found.has_value()) return std::nullopt;  // ambiguous
    found = s.value;
  }
  return found;
}

std::vector<const MetricSample*> MetricsText::Named(std::string_view name) const {
  std::vector<const MetricSample*> out;
  for (const MetricSample& s : samples) {
    if (s.name == name) out.push_back(&s);
  }
  return out;
}

MetricsText ParseMetrics(std::string body) {
  MetricsText m;
  m.body = std::move(body);
  std::string_view text = m.body;
  while (!text.empty()) {
    std::size_t e = text.find('\n');
    std::string_view line = text.substr(0, e);
    text = e == std::string_view::npos ? "" : text.substr(e + 1);
    if (line.empty()) continue;
    if (line.front() == '#') {
      if (line.substr(0, 7) == "# TYPE ") {
        std::string_view rest = line.substr(7);
        std::size_t sp = rest.find(' ');
        if (sp != std::string_view::npos) {
          m.types[std::string(rest.substr(0, sp))] = std::string(rest.substr(sp + 1));
        }
      }
      continue;
    }
    MetricSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) break;
        std::string key(line.substr(i, eq - i));
        i = eq + 2;  // skip ="
        std::string value;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
          ++i;
        }
        ++i;  // closing quote
        s.labels[key] = value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string value(line.substr(i, line.find(' ', i) - i));
    s.value = std::strtod(value.c_str(), nullptr);
    m.samples.push_back(std::move(s));
  }
  return m;
}

// ---- Fixture ----

void ServiceTest::SetUp() {
  crypto::Init();
  std::string templ = (std::filesystem::temp_directory_path() / "svcr-itest-XXXXXX").string();
  char* made = ::mkdtemp(templ.data());
  ASSERT_NE(made, nullptr) << "mkdtemp failed";
  dir_ = made;
  const std::string key_path = (dir_ / "root.key").string();
  util::Status written = auth::WriteRootKeyFile(key_path);
  ASSERT_TRUE(written.ok()) << written.error().message();
  util::Result<auth::RootKey> key = auth::LoadRootKeyFile(key_path);
  ASSERT_TRUE(key.ok()) << key.error().message();
  root_key_.emplace(*key);
  UseGeneratedTrustRoots(3, 2);
}

void ServiceTest::TearDown() {
  if (service_ != nullptr && !stopped_) {
    if (!HasFailure() && service_->running()) {
      // SPEC §2.3: no request may produce a 5xx except a genuine internal fault.
      MetricsText m = FetchMetrics();
      EXPECT_EQ(m.Value("internal_errors_total"), 0.0);
      for (const MetricSample* s : m.Named("http_requests_total")) {
        const std::string& status = s->labels.at("status");
        if (s->value == 0 || status.empty() || status[0] != '5') continue;
        EXPECT_TRUE(allow_503_ && status == "503")
            << "unexpected " << status << " answers on " << s->labels.at("method") << " "
            << s->labels.at("route") << ": " << s->value;
      }
    }
    if (!HasFailure()) {
      StopServiceGracefully();
    } else {
      std::cerr << service_->Tail() << "\n";
      if (!service_->signalled() && service_->WaitForLine(
                                        [](const std::string& l) {
                                          return l.find("\"event\":\"stopping\"") !=
                                                 std::string::npos;
                                        },
                                        std::chrono::milliseconds(0))) {
        std::cerr << "NOTE: svc-registry was stopped by a signal this test did not send "
                     "(another process on the machine?)\n";
      }
      service_->Kill();
    }
  }
  api_.reset();
  admin_.reset();
  service_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void ServiceTest::UseVectorTrustRoots() {
  const json::Value* roots = Vectors().Find("trust_roots");
  ASSERT_NE(roots, nullptr);
  trust_roots_json_ = json::Canonicalize(*roots);
  util::Result<model::Governance> g = model::DecodeGovernance(*roots, "trust_roots");
  ASSERT_TRUE(g.ok()) << g.error().message();
  governance_ = *g;
  signers_.clear();
}

void ServiceTest::UseGeneratedTrustRoots(int n, std::uint32_t m) {
  signers_ = registry::testing::MakeSigners("itest", n);
  governance_ = registry::testing::MakeGovernance(signers_, m);
  trust_roots_json_ = json::Canonicalize(model::EncodeGovernance(governance_));
}

void ServiceTest::StartService(const std::vector<std::string>& extra) {
  ASSERT_EQ(service_, nullptr) << "the service is already running";
  const std::string roots_path = (dir_ / "trust_roots.json").string();
  {
    std::ofstream out(roots_path, std::ios::binary | std::ios::trunc);
    out << trust_roots_json_;
    ASSERT_TRUE(out.good());
  }
  std::vector<std::string> args = {
      "--storage",      storage_,
      "--data-dir",     (dir_ / "data").string(),
      "--bind",         "127.0.0.1:0",
      "--metrics-addr", "127.0.0.1:0",
      "--set",          "bootstrap.trust_roots_path=" + roots_path,
      "--set",          "auth.root_key_path=" + (dir_ / "root.key").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto_commit_ = std::find(args.begin(), args.end(), "governance.auto_commit=true") != args.end();
  std::string error;
  service_ = ServiceProcess::Start(SVC_REGISTRY_PATH, args, kStartTimeout, &error);
  ASSERT_NE(service_, nullptr) << error;
  api_ = std::make_unique<HttpClient>(service_->api_port());
  admin_ = std::make_unique<HttpClient>(service_->admin_port());
  ASSERT_TRUE(api_->connected()) << api_->connect_error();
  ASSERT_TRUE(admin_->connected()) << admin_->connect_error();
  head_version_ = 0;
  head_b3_ = crypto::ZeroB3();
}

void ServiceTest::StartServiceWith(std::initializer_list<std::string> settings) {
  std::vector<std::string> extra;
  for (const std::string& s : settings) {
    extra.push_back("--set");
    extra.push_back(s);
  }
  StartService(extra);
}

void ServiceTest::StopServiceGracefully() {
  ASSERT_NE(service_, nullptr);
  // The clients leave first: a keep-alive connection the server is still finishing a write
  // on would otherwise linger (up to about 1.5 s) waiting for the client's EOF.
  api_.reset();
  admin_.reset();
  int code = service_->Terminate(kStopTimeout);
  stopped_ = true;
  EXPECT_EQ(code, 0) << "svc-registry did not exit cleanly on SIGTERM\n" << service_->Tail();
  std::optional<std::string> line = service_->WaitForLine(
      [](const std::string& l) { return l.find("\"event\":\"stopped\"") != std::string::npos; },
      std::chrono::milliseconds(0));
  EXPECT_TRUE(line.has_value()) << "no \"stopped\" log line\n" << service_->Tail();
}

std::string ServiceTest::Token(std::initializer_list<auth::Scope> scopes,
                               std::chrono::seconds valid_for) {
  std::vector<auth::Scope> s(scopes);
  return auth::Mint(
      *root_key_, s,
      NowMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(valid_for).count(),
      "itest");
}

std::string ServiceTest::ExpiredToken(std::initializer_list<auth::Scope> scopes) {
  std::vector<auth::Scope> s(scopes);
  return auth::Mint(*root_key_, s, NowMillis() - 60'000, "itest");
}

const std::string& ServiceTest::writer_token() {
  if (!writer_token_) {
    writer_token_ = Token({auth::Scope::kPropose, auth::Scope::kApprove, auth::Scope::kCommit});
  }
  return *writer_token_;
}

const std::string& ServiceTest::admin_token() {
  if (!admin_token_) admin_token_ = Token({auth::Scope::kAdmin});
  return *admin_token_;
}

HttpResponse ServiceTest::Get(std::string_view target, const Headers& headers) {
  return api_->Request("GET", target, headers);
}

HttpResponse ServiceTest::Post(std::string_view target, std::string_view body,
                               const Headers& headers) {
  return api_->Request("POST", target, headers, body);
}

HttpResponse ServiceTest::AdminGet(std::string_view target, const Headers& headers) {
  return admin_->Request("GET", target, headers);
}

HttpResponse ServiceTest::AdminPost(std::string_view target, const Headers& headers) {
  return admin_->Request("POST", target, headers);
}

std::string ServiceTest::ProposeBody(const json::Value& payload) {
  return R"({"schema_version":"1.0.0","payload":)" + json::Canonicalize(payload) + "}";
}

HttpResponse ServiceTest::PostProposal(const json::Value& payload, const Headers& headers) {
  return PostJson("/registry/proposals", ProposeBody(payload), headers);
}

HttpResponse ServiceTest::PostApproval(std::string_view proposal_id,
                                       const model::Approval& approval, const Headers& headers) {
  return PostApprovalJson(proposal_id, json::Canonicalize(model::EncodeApproval(approval)),
                          headers);
}

HttpResponse ServiceTest::PostApprovalJson(std::string_view proposal_id, std::string_view body,
                                           const Headers& headers) {
  return PostJson("/registry/approvals/" + std::string(proposal_id), body, headers);
}

HttpResponse ServiceTest::PostJson(std::string_view target, std::string_view body,
                                   const Headers& headers) {
  Headers h = headers;
  if (!HasHeader(h, "authorization")) h.emplace_back("Authorization", Bearer(writer_token()));
  if (!HasHeader(h, "content-type")) h.emplace_back("Content-Type", "application/json");
  return Post(target, body, h);
}

HttpResponse ServiceTest::PostCommit(std::string_view proposal_id, const Headers& headers) {
  Headers h = headers;
  if (!HasHeader(h, "authorization")) h.emplace_back("Authorization", Bearer(writer_token()));
  return Post("/registry/commit/" + std::string(proposal_id), "", h);
}

HttpResponse ServiceTest::Freeze(bool freeze) {
  return AdminPost(freeze ? "/admin/freeze" : "/admin/thaw",
                   {{"Authorization", Bearer(admin_token())}});
}

json::Value ServiceTest::NextPayload(int items, const std::string& tag) {
  return registry::testing::MakePayloadValue(head_version_ + 1, head_b3_, governance_, items, tag);
}

model::Approval ServiceTest::SignWith(int i, const std::string& payload_b3) const {
  return registry::testing::Sign(signers_.at(static_cast<std::size_t>(i)), payload_b3, NowMillis());
}

Committed ServiceTest::CommitNext(const std::string& corr_id, int items) {
  Committed c;
  json::Value payload = NextPayload(items, "v" + std::to_string(head_version_ + 1));
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  c.proposal_id = cp.proposal_id;
  c.payload = payload;
  HttpResponse p = PostProposal(payload);
  if (p.status != 202) {
    ADD_FAILURE() << "propose version " << head_version_ + 1 << ": " << p.Describe();
    return c;
  }
  Headers corr;
  if (!corr_id.empty()) corr.emplace_back("X-Corr-ID", corr_id);
  HttpResponse last;
  for (std::uint32_t i = 0; i < governance_.m; ++i) {
    const bool final_one = i + 1 == governance_.m;
    last = PostApproval(cp.proposal_id, SignWith(static_cast<int>(i), cp.payload_b3),
                        final_one && auto_commit_ ? corr : Headers{});
    if (last.status != 200) {
      ADD_FAILURE() << "approve version " << head_version_ + 1 << ": " << last.Describe();
      return c;
    }
  }
  json::Value outcome;
  if (auto_commit_) {
    json::Value body = ParseJsonOrFail(last.body);
    const json::Value* committed = body.Find("committed");
    if (committed == nullptr) {
      ADD_FAILURE() << "auto-commit did not fire: " << last.Describe();
      return c;
    }
    outcome = *committed;
    c.response = last;
  } else {
    c.response = PostCommit(cp.proposal_id, corr);
    if (c.response.status != 201) {
      ADD_FAILURE() << "commit version " << head_version_ + 1 << ": " << c.response.Describe();
      return c;
    }
    outcome = ParseJsonOrFail(c.response.body);
  }
  c.version = static_cast<std::uint64_t>(JsonInt(outcome, {"version"}).value_or(0));
  c.payload_b3 = JsonStr(outcome, {"payload_b3"});
  c.committed_at = JsonStr(outcome, {"committed_at"});
  c.corr_id = c.response.Header("x-corr-id").value_or("");
  if (c.version != head_version_ + 1 || c.payload_b3 != cp.payload_b3) {
    ADD_FAILURE() << "unexpected commit outcome: " << c.response.Describe();
    return c;
  }
  head_version_ = c.version;
  head_b3_ = c.payload_b3;
  c.ok = true;
  return c;
}

void ServiceTest::SyncHead() {
  HttpResponse r = Get("/registry/head");
  ASSERT_TRUE(HasStatus(r, 200));
  json::Value head = ParseJsonOrFail(r.body);
  head_version_ = static_cast<std::uint64_t>(JsonInt(head, {"version"}).value_or(0));
  head_b3_ = JsonStr(head, {"payload_b3"});
}

MetricsText ServiceTest::FetchMetrics() {
  HttpResponse r = AdminGet("/metrics");
  EXPECT_TRUE(HasStatus(r, 200));
  return ParseMetrics(std::move(r.body));
}

const json::Value& ServiceTest::Vectors() {
  static const json::Value* vectors =
      new json::Value(registry::testing::LoadJsonVector("approvals.json"));
  return *vectors;
}

model::Approval ServiceTest::SignAsVectorSigner(const std::string& signer_id,
                                                const std::string& payload_b3) {
  const json::Value* hex = JsonAt(Vectors(), {"signer_seeds_hex", signer_id});
  REGISTRY_CHECK(hex != nullptr && hex->is_string(), "unknown vectors signer");
  std::optional<std::vector<std::uint8_t>> bytes = util::HexDecode(hex->as_string());
  REGISTRY_CHECK(bytes.has_value() && bytes->size() == 32, "bad vectors seed");
  crypto::Ed25519Seed seed;
  std::copy(bytes->begin(), bytes->end(), seed.begin());
  return model::SignApproval(signer_id, seed, payload_b3, NowMillis());
}

}  // namespace registry::itest
