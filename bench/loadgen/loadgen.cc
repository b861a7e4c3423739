// loadgen: the load generator of the performance harness (scripts/perf.sh, docs/PERFORMANCE.md).
//
//   loadgen cycles    --url U --dir D [--rate R] [--duration S] [--cycles N]
//                     [--record-bytes B] [--out F]
//       Full write cycles against a running svc-registry: propose a payload on HEAD, three
//       approvals (real Ed25519 signatures with the signer keys of `registryctl init --dir D`),
//       commit. --rate R starts a cycle every 1/R s (0 = flat out, back to back); the run ends
//       after --duration seconds or --cycles cycles. Cycles are sequential: each version
//       sits on the previous HEAD. Reports p50/p95/p99/max of each step and of the whole
//       cycle, the start lag behind schedule, cycles/s and the last version committed.
//   loadgen stream    --url U --dir D --subscribers K [--commits C] [--pid P] [--out F]
//       Holds K SSE subscribers on /registry/stream (non-blocking sockets, one epoll), then
//       runs C full cycles; for each, the time from sending the commit request to the
//       first byte of the event at every subscriber (p50/p99 over all subscribers and
//       commits), plus the server's RSS (VmRSS of --pid) with the K subscribers connected.
//   loadgen rate      --url U --target PATH --rps R --duration S [--conns C] [--warmup S]
//                     [--pid P] [--out F]
//       Open-loop GETs at a fixed rate over C keep-alive connections (at most one request in
//       flight on each; a request due while every connection is busy waits and its latency
//       counts from when it was due, so queueing is not hidden). Reports the status mix,
//       latency percentiles of all and of admitted (200) responses, achieved rate, and with
//       --pid the server's CPU (utime+stime from /proc/P/stat over the measured window, as a
//       fraction of one core) and RSS.
//   loadgen coldstart --url U --out F [--log L] -- COMMAND...
//       Starts COMMAND (the service; inherits nothing but the environment, output to --log)
//       and polls GET /readyz on U every 0.5 ms until 200; reports the milliseconds from
//       fork to that 200 and the child's pid, and leaves the child running.
//
// Results are one JSON object, written to --out (or stdout). Exit status 0 on success, 1 on a
// failed run (an unexpected HTTP status, a lost connection), 2 on bad arguments.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/http/client.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/hex.h"
#include "registry/util/time.h"

namespace registry::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "loadgen: %s\n", message.c_str());
  std::exit(1);
}

// ---- Arguments ----

struct Args {
  std::string command;
  std::map<std::string, std::string> flags;
  std::vector<std::string> rest;  // after "--"

  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  double Num(const std::string& name, double fallback) const {
    auto it = flags.find(name);
    if (it == flags.end()) return fallback;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0') {
      std::fprintf(stderr, "loadgen: --%s: not a number: %s\n", name.c_str(), it->second.c_str());
      std::exit(2);
    }
    return v;
  }
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: loadgen cycles|stream|rate|coldstart --flag value ...\n");
    std::exit(2);
  }
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--") {
      for (++i; i < argc; ++i) a.rest.push_back(argv[i]);
      break;
    }
    if (s.rfind("--", 0) != 0) {
      std::fprintf(stderr, "loadgen: unexpected argument %s\n", s.c_str());
      std::exit(2);
    }
    s = s.substr(2);
    if (auto eq = s.find('='); eq != std::string::npos) {
      a.flags[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (i + 1 < argc) {
      a.flags[s] = argv[++i];
    } else {
      std::fprintf(stderr, "loadgen: --%s needs a value\n", s.c_str());
      std::exit(2);
    }
  }
  return a;
}

// ---- Reporting ----

std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// {"n":..,"mean_ms":..,"p50_ms":..,"p95_ms":..,"p99_ms":..,"max_ms":..}
std::string Percentiles(std::vector<double> ms) {
  if (ms.empty()) return "{\"n\":0}";
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    std::size_t i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms.size()))) - 1;
    return ms[std::min(ms.size() - 1, i)];
  };
  double sum = 0;
  for (double v : ms) sum += v;
  return "{\"n\":" + std::to_string(ms.size()) +
         ",\"mean_ms\":" + Num(sum / static_cast<double>(ms.size())) +
         ",\"p50_ms\":" + Num(at(0.50)) + ",\"p95_ms\":" + Num(at(0.95)) +
         ",\"p99_ms\":" + Num(at(0.99)) + ",\"max_ms\":" + Num(ms.back()) + "}";
}

void WriteOut(const Args& args, const std::string& json) {
  const std::string path = args.Get("out");
  if (path.empty()) {
    std::printf("%s\n", json.c_str());
    return;
  }
  std::ofstream f(path);
  f << json << "\n";
  if (!f) Die("cannot write " + path);
}

// ---- /proc ----

struct ProcSample {
  double cpu_seconds = 0;  // utime + stime
  double rss_mib = 0;      // VmRSS
  double hwm_mib = 0;      // VmHWM (peak RSS)
};

std::optional<ProcSample> SampleProc(long pid) {
  if (pid <= 0) return std::nullopt;
  ProcSample s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  // Fields after the ")" that ends comm: state is field 3, utime 14, stime 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  if (f.size() < 13) return std::nullopt;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / hz;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_mib = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_mib = std::stod(line.substr(6)) / 1024.0;
  }
  return s;
}

// ---- Raw sockets (stream, rate, coldstart) ----

struct Endpoint {
  sockaddr_in addr{};
  std::string host_header;
};

Endpoint ParseUrl(const std::string& url) {
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) Die("--url must be http://IPv4:port: " + url);
  std::string hostport = url.substr(prefix.size());
  if (auto slash = hostport.find('/'); slash != std::string::npos) hostport.resize(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) Die("--url needs a port: " + url);
  Endpoint e;
  e.addr.sin_family = AF_INET;
  e.addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(hostport.substr(colon + 1))));
  if (::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &e.addr.sin_addr) != 1) {
    Die("--url host must be an IPv4 literal: " + url);
  }
  e.host_header = hostport;
  return e;
}

int ConnectNonBlocking(const Endpoint& e) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) Die(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), sizeof e.addr) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      std::this_thread::yield();  // a full send buffer on loopback drains at once
    } else {
      return false;
    }
  }
  return true;
}

// Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit.
rlim_t RaiseNoFile() {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &r);
  return r.rlim_cur;
}

// One HTTP/1.1 response parsed off a keep-alive connection's buffer.
struct Parsed {
  int status = 0;
  std::size_t consumed = 0;  // bytes of the buffer this response took
  bool close = false;        // "Connection: close"
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A complete response at the start of `buf`, or nullopt when more bytes are needed.
std::optional<Parsed> ParseResponse(const std::string& buf) {
  const std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  if (buf.size() < 12) return std::nullopt;
  Parsed p;
  p.status = std::atoi(buf.c_str() + 9);
  const std::string head = Lower(std::string_view(buf).substr(0, end + 2));
  std::size_t length = 0;
  if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
    length = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
  }
  p.close = head.find("\r\nconnection: close") != std::string::npos;
  if (buf.size() < end + 4 + length) return std::nullopt;
  p.consumed = end + 4 + length;
  return p;
}

// ---- The registry directory of `registryctl init` ----

struct SignerKey {
  std::string id;
  crypto::Ed25519Seed seed;
};

struct RegistryDir {
  model::Governance governance;
  json::Value governance_json;
  std::vector<SignerKey> signers;  // in governance order, those whose key file was found
  std::string propose_token, approve_token, commit_token;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) Die("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

RegistryDir LoadDir(const std::string& dir) {
  RegistryDir d;
  util::Result<model::Governance> g =
      model::LoadTrustRoots(ReadFile(dir + "/trust_roots.json"), std::nullopt);
  if (!g.ok()) Die("trust roots: " + g.error().message());
  d.governance = *g;
  d.governance_json = model::EncodeGovernance(d.governance);
  // init writes signers/signer-<i>.key; match each seed to its signer by public key.
  for (std::size_t i = 1; i <= d.governance.signers.size(); ++i) {
    const std::string path = dir + "/signers/signer-" + std::to_string(i) + ".key";
    std::optional<std::vector<std::uint8_t>> raw = util::HexDecode(Trim(ReadFile(path)));
    if (!raw || raw->size() != 32) Die("bad key file " + path);
    SignerKey k;
    std::copy(raw->begin(), raw->end(), k.seed.begin());
    const crypto::Ed25519PublicKey pub = crypto::Ed25519FromSeed(k.seed).public_key;
    for (const model::Signer& s : d.governance.signers) {
      if (s.pubkey == pub) k.id = s.id;
    }
    if (k.id.empty()) Die("key " + path + " is not in the trust roots");
    d.signers.push_back(k);
  }
  if (d.signers.size() < d.governance.m) Die("fewer signer keys than the quorum");
  d.propose_token = Trim(ReadFile(dir + "/tokens/propose.token"));
  d.approve_token = Trim(ReadFile(dir + "/tokens/approve.token"));
  d.commit_token = Trim(ReadFile(dir + "/tokens/commit.token"));
  return d;
}

// ---- Write cycles over the project's HTTP client ----

struct Head {
  std::uint64_t version = 0;
  std::string payload_b3;
};

struct CycleTimes {
  double propose_ms = 0;
  std::vector<double> approve_ms;
  double commit_ms = 0;
  double cycle_ms = 0;
};

class Writer {
 public:
  Writer(const std::string& url, RegistryDir dir, std::size_t record_bytes)
      : dir_(std::move(dir)), record_bytes_(record_bytes) {
    http::ClientOptions options;
    options.timeout = std::chrono::milliseconds(30000);
    util::Result<http::Client> c = http::Client::Create(url, options);
    if (!c.ok()) Die("client: " + c.error().message());
    client_.emplace(std::move(c).value());
  }

  Head FetchHead() {
    util::Result<http::ClientResponse> r = client_->Request("GET", "/registry/head");
    if (!r.ok() || r->status != 200) Die("GET /registry/head failed");
    util::Result<json::Value> v = json::Parse(r->body);
    if (!v.ok()) Die("bad HEAD body");
    Head h;
    h.version = static_cast<std::uint64_t>(v->Find("version")->as_number());
    h.payload_b3 = v->Find("payload_b3")->as_string();
    return h;
  }

  // The payload of HEAD + 1 and its hash; `pad` descriptors bring the commit record to about
  // record_bytes_ (never below what the governance alone needs).
  struct Prepared {
    std::string body;  // POST /registry/proposals body
    std::string payload_b3;
    std::string proposal_id;
    std::size_t payload_bytes = 0;
  };

  Prepared Prepare(const Head& head) {
    json::Array items;
    // The governance (7 signers), three approvals and the record's own members take about
    // 2 KiB; the rest is descriptors of up to 4 KiB of padding each.
    std::size_t pad_total = record_bytes_ > 2000 ? record_bytes_ - 2000 : 0;
    for (std::size_t i = 0; i == 0 || pad_total > 0; ++i) {
      const std::string id =
          "node:lg/" + std::to_string(head.version + 1) + "-" + std::to_string(i);
      const std::size_t pad = std::min<std::size_t>(pad_total, 4000);
      pad_total -= pad;
      items.push_back(
          json::MakeObject({{"kind", "node"},
                            {"id", id},
                            {"endpoint", "https://" + std::to_string(i) + ".lg:8443"},
                            {"region", "lg-1"},
                            {"meta", json::MakeObject({{"pad", std::string(pad, 'x')}})}}));
    }
    json::Value payload = json::MakeObject({{"version", head.version + 1},
                                            {"prev_hash", head.payload_b3},
                                            {"governance", dir_.governance_json},
                                            {"items", json::Value(std::move(items))}});
    Prepared p;
    const std::string canonical = json::Canonicalize(payload);
    p.payload_bytes = canonical.size();
    p.payload_b3 = crypto::PayloadB3(canonical);
    p.proposal_id = model::ProposalIdFor(p.payload_b3);
    p.body = "{\"schema_version\":\"1.0.0\",\"payload\":" + canonical + "}";
    return p;
  }

  // One full cycle on `head`; returns the new HEAD. Dies on any unexpected status.
  Head Cycle(const Head& head, CycleTimes& t, const std::function<void()>& before_commit = {}) {
    const Prepared p = Prepare(head);
    const auto t0 = Clock::now();
    Post("/registry/proposals", dir_.propose_token, p.body, 202);
    const auto t1 = Clock::now();
    t.propose_ms = MsSince(t0, t1);
    t.approve_ms.clear();
    const util::UnixMillis now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count();
    for (std::size_t i = 0; i < dir_.governance.m; ++i) {
      const SignerKey& k = dir_.signers[(head.version + i) % dir_.signers.size()];
      model::Approval a = model::SignApproval(k.id, k.seed, p.payload_b3, now_ms);
      const std::string body = json::Canonicalize(model::EncodeApproval(a));
      const auto a0 = Clock::now();
      Post("/registry/approvals/" + p.proposal_id, dir_.approve_token, body, 200);
      t.approve_ms.push_back(MsSince(a0, Clock::now()));
    }
    if (before_commit) before_commit();
    const auto c0 = Clock::now();
    Post("/registry/commit/" + p.proposal_id, dir_.commit_token, "", 201);
    const auto c1 = Clock::now();
    t.commit_ms = MsSince(c0, c1);
    t.cycle_ms = MsSince(t0, c1);
    return Head{head.version + 1, p.payload_b3};
  }

 private:
  void Post(const std::string& target, const std::string& token, const std::string& body,
            int want) {
    const std::vector<http::Header> headers = {{"Authorization", "Bearer " + token},
                                               {"Content-Type", "application/json"}};
    util::Result<http::ClientResponse> r = client_->Request("POST", target, headers, body);
    if (!r.ok()) Die("POST " + target + ": " + r.error().message());
    if (r->status != want) {
      Die("POST " + target + ": status " + std::to_string(r->status) + " " + r->body);
    }
  }

  RegistryDir dir_;
  std::size_t record_bytes_;
  std::optional<http::Client> client_;
};

int RunCycles(const Args& args) {
  crypto::Init();
  const double rate = args.Num("rate", 0);
  const double duration = args.Num("duration", 5);
  const auto max_cycles = static_cast<std::uint64_t>(args.Num("cycles", 0));
  Writer w(args.Get("url"), LoadDir(args.Get("dir")),
           static_cast<std::size_t>(args.Num("record-bytes", 0)));
  Head head = w.FetchHead();
  std::vector<double> propose, approve, commit, cycle, lag;
  CycleTimes t;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  std::uint64_t n = 0;
  for (;; ++n) {
    if (max_cycles > 0 && n >= max_cycles) break;
    auto due = start;
    if (rate > 0) {
      due = start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(n) / rate));
      if (max_cycles == 0 && due >= end) break;
      std::this_thread::sleep_until(due);
    } else if (max_cycles == 0 && Clock::now() >= end) {
      break;
    }
    const auto began = Clock::now();
    if (rate > 0) lag.push_back(MsSince(due, began));
    head = w.Cycle(head, t);
    propose.push_back(t.propose_ms);
    approve.insert(approve.end(), t.approve_ms.begin(), t.approve_ms.end());
    commit.push_back(t.commit_ms);
    cycle.push_back(t.cycle_ms);
  }
  const double elapsed = MsSince(start, Clock::now()) / 1000.0;
  std::string json =
      "{\"mode\":\"cycles\",\"rate_target\":" + Num(rate) + ",\"cycles\":" + std::to_string(n) +
      ",\"elapsed_s\":" + Num(elapsed) +
      ",\"cycles_per_s\":" + Num(static_cast<double>(n) / elapsed) +
      ",\"last_version\":" + std::to_string(head.version) + ",\"propose\":" + Percentiles(propose) +
      ",\"approve\":" + Percentiles(approve) + ",\"commit\":" + Percentiles(commit) +
      ",\"cycle\":" + Percentiles(cycle) + ",\"start_lag\":" + Percentiles(lag) + "}";
  WriteOut(args, json);
  return 0;
}

// ---- SSE subscribers ----

int RunStream(const Args& args) {
  crypto::Init();
  const rlim_t nofile = RaiseNoFile();
  const auto k = static_cast<std::size_t>(args.Num("subscribers", 1000));
  const auto commits = static_cast<std::size_t>(args.Num("commits", 5));
  const long pid = static_cast<long>(args.Num("pid", 0));
  if (k + 64 > nofile) Die("RLIMIT_NOFILE " + std::to_string(nofile) + " too low");
  const Endpoint ep = ParseUrl(args.Get("url"));
  Writer w(args.Get("url"), LoadDir(args.Get("dir")), 0);

  const int ep_fd = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<int> fds;
  std::vector<std::string> got(k);  // bytes before the 200 head is complete
  std::vector<char> ready(k, 0);    // response head seen, status 200
  const std::string request = "GET /registry/stream HTTP/1.1\r\nHost: " + ep.host_header +
                              "\r\nAccept: text/event-stream\r\n\r\n";
  std::size_t connected = 0, failed = 0;
  char buf[65536];
  auto pump = [&](int timeout_ms, const std::function<void(std::size_t, std::size_t)>& on_read) {
    epoll_event events[1024];
    int n = ::epoll_wait(ep_fd, events, 1024, timeout_ms);
    for (int i = 0; i < n; ++i) {
      const std::size_t idx = events[i].data.u64;
      for (;;) {
        ssize_t r = ::recv(fds[idx], buf, sizeof buf, 0);
        if (r > 0) {
          on_read(idx, static_cast<std::size_t>(r));
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        ::epoll_ctl(ep_fd, EPOLL_CTL_DEL, fds[idx], nullptr);  // closed by the server
        ::close(fds[idx]);
        fds[idx] = -1;
        ++failed;
        break;
      }
    }
  };
  auto on_head = [&](std::size_t idx, std::size_t r) {
    if (ready[idx]) return;
    got[idx].append(buf, r);
    if (got[idx].find("\r\n\r\n") == std::string::npos) return;
    if (std::atoi(got[idx].c_str() + 9) == 200) {
      ready[idx] = 1;
      ++connected;
    } else {
      ++failed;
    }
    got[idx].clear();
  };

  // Connect in batches so that the accept queue is never the bottleneck being measured.
  const auto c0 = Clock::now();
  for (std::size_t i = 0; i < k; ++i) {
    int fd = ConnectNonBlocking(ep);
    if (fd < 0) Die("connect failed");
    fds.push_back(fd);
    // Loopback connects complete at once; the request fits any send buffer.
    for (int tries = 0; tries < 1000; ++tries) {
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep_fd, EPOLL_CTL_ADD, fd, &ev);
    if (i % 256 == 255) {
      while (connected + failed + 64 < i) pump(10, on_head);
    }
  }
  while (connected + failed < k && MsSince(c0, Clock::now()) < 60000) pump(10, on_head);
  const double connect_s = MsSince(c0, Clock::now()) / 1000.0;
  if (connected < k) {
    Die("only " + std::to_string(connected) + " of " + std::to_string(k) +
        " subscribers got a 200 (" + std::to_string(failed) + " refused or closed)");
  }
  // Let the server settle, then read its memory with every subscriber attached.
  while (MsSince(c0, Clock::now()) < connect_s * 1000 + 200)
    pump(10, [](std::size_t, std::size_t) {});
  std::optional<ProcSample> mem = SampleProc(pid);

  Head head = w.FetchHead();
  std::vector<double> first_byte;     // commit request sent → first byte, every subscriber
  std::vector<double> after_201;      // 201 received → first byte (negative: before the 201)
  std::vector<double> last_of_round;  // the slowest subscriber of each commit
  std::size_t lost = 0;
  for (std::size_t c = 0; c < commits; ++c) {
    CycleTimes t;
    std::vector<Clock::time_point> first(k, Clock::time_point{});
    std::size_t seen = 0;
    Clock::time_point sent{}, acked{};
    std::atomic<bool> sending{false};
    // The cycle runs on its own thread; just before its commit request it drains anything
    // queued (heartbeats), so that every byte after `sent` is the event, and hands the
    // sockets over to this thread.
    auto before_commit = [&] {
      for (int i = 0; i < 3; ++i) pump(0, [](std::size_t, std::size_t) {});
      sent = Clock::now();
      sending.store(true, std::memory_order_release);
    };
    std::thread committer([&] {
      head = w.Cycle(head, t, before_commit);
      acked = Clock::now();
    });
    while (!sending.load(std::memory_order_acquire)) std::this_thread::yield();
    const std::size_t failed_before = failed;
    while (seen + (failed - failed_before) < k && MsSince(sent, Clock::now()) < 10000) {
      pump(5, [&](std::size_t idx, std::size_t) {
        if (first[idx] == Clock::time_point{}) {
          first[idx] = Clock::now();
          ++seen;
        }
      });
    }
    committer.join();
    lost += k - seen;
    double worst = 0;
    for (std::size_t i = 0; i < k; ++i) {
      if (first[i] == Clock::time_point{}) continue;
      first_byte.push_back(MsSince(sent, first[i]));
      after_201.push_back(MsSince(acked, first[i]));
      worst = std::max(worst, MsSince(sent, first[i]));
    }
    last_of_round.push_back(worst);
  }
  std::optional<ProcSample> mem_after = SampleProc(pid);
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  std::string json = "{\"mode\":\"stream\",\"subscribers\":" + std::to_string(k) +
                     ",\"commits\":" + std::to_string(commits) +
                     ",\"connect_s\":" + Num(connect_s) + ",\"missed\":" + std::to_string(lost) +
                     ",\"first_byte\":" + Percentiles(first_byte) +
                     ",\"first_byte_after_201\":" + Percentiles(after_201) +
                     ",\"slowest_subscriber\":" + Percentiles(last_of_round);
  if (mem) json += ",\"server_rss_mib\":" + Num(mem->rss_mib);
  if (mem_after) json += ",\"server_rss_after_mib\":" + Num(mem_after->rss_mib);
  json += "}";
  WriteOut(args, json);
  return lost == 0 ? 0 : 1;
}

// ---- Fixed-rate reads ----

int RunRate(const Args& args) {
  RaiseNoFile();
  const Endpoint ep = ParseUrl(args.Get("url"));
  const std::string target = args.Get("target", "/registry/head");
  const double rps = args.Num("rps", 2500);
  const double duration = args.Num("duration", 5);
  const double warmup = args.Num("warmup", 1);
  const auto nconns = static_cast<std::size_t>(args.Num("conns", 64));
  const long pid = static_cast<long>(args.Num("pid", 0));
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + ep.host_header + "\r\n\r\n";

  struct Conn {
    int fd = -1;
    std::string in;
    bool busy = false;
    Clock::time_point due;
  };
  const int ep_fd = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Conn> conns(nconns);
  std::vector<std::size_t> idle;
  auto open = [&](std::size_t i) {
    conns[i].fd = ConnectNonBlocking(ep);
    if (conns[i].fd < 0) Die("connect failed");
    conns[i].in.clear();
    conns[i].busy = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep_fd, EPOLL_CTL_ADD, conns[i].fd, &ev);
    idle.push_back(i);
  };
  for (std::size_t i = 0; i < nconns; ++i) open(i);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // loopback connects settle

  const Clock::duration interval =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rps));
  const auto start = Clock::now();
  const auto measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  const auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(duration));
  auto next_due = start;
  std::size_t backlog = 0;      // due but not sent: every connection was busy
  std::uint64_t shortfall = 0;  // due in the measured window but dropped (see below)
  std::vector<double> all_ms, ok_ms;
  std::map<int, std::uint64_t> statuses;
  std::uint64_t errors = 0, sent_measured = 0, reconnects = 0;
  std::optional<ProcSample> p0;
  Clock::time_point p0_at{};
  char buf[65536];
  epoll_event events[512];
  while (true) {
    const auto now = Clock::now();
    if (!p0 && now >= measure_from) {
      p0 = SampleProc(pid);
      p0_at = now;
    }
    if (now >= end) break;
    // Everything due by now: a backlog entry keeps its due time in order of arrival.
    while (next_due <= now) {
      ++backlog;
      next_due += interval;
    }
    // A generator that cannot keep up (every connection busy, or its own CPU short) drops
    // the oldest due requests beyond one per connection rather than falling ever further
    // behind; they are counted, and the offered rate actually sent is reported.
    if (backlog > nconns) {
      if (next_due - interval * static_cast<long>(backlog) >= measure_from) {
        shortfall += backlog - nconns;
      }
      backlog = nconns;
    }
    while (backlog > 0 && !idle.empty()) {
      const std::size_t i = idle.back();
      idle.pop_back();
      Conn& c = conns[i];
      c.busy = true;
      c.due = next_due - interval * static_cast<long>(backlog);
      --backlog;
      if (c.due >= measure_from) ++sent_measured;
      if (!SendAll(c.fd, request)) ++errors;
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now);
    const int n = ::epoll_wait(ep_fd, events, 512,
                               backlog > 0 && idle.empty() ? 1 : std::max<int>(0, wait.count()));
    for (int e = 0; e < n; ++e) {
      const std::size_t i = events[e].data.u64;
      Conn& c = conns[i];
      bool closed = false;
      for (;;) {
        ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.in.append(buf, static_cast<std::size_t>(r));
          continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
        closed = true;
        break;
      }
      while (c.busy) {
        std::optional<Parsed> p = ParseResponse(c.in);
        if (!p) break;
        const auto t = Clock::now();
        if (c.due >= measure_from && c.due < end) {
          const double ms = MsSince(c.due, t);
          all_ms.push_back(ms);
          ++statuses[p->status];
          if (p->status == 200) ok_ms.push_back(ms);
        }
        c.in.erase(0, p->consumed);
        c.busy = false;
        if (p->close)
          closed = true;
        else
          idle.push_back(i);
      }
      if (closed) {
        if (c.busy && c.due >= measure_from) ++errors;
        ::epoll_ctl(ep_fd, EPOLL_CTL_DEL, c.fd, nullptr);
        ::close(c.fd);
        idle.erase(std::remove(idle.begin(), idle.end(), i), idle.end());
        ++reconnects;
        open(i);
      }
    }
  }
  std::optional<ProcSample> p1 = SampleProc(pid);
  const double window = MsSince(p0_at, Clock::now()) / 1000.0;
  std::uint64_t answered = 0;
  for (auto& [s, count] : statuses) answered += count;
  std::string status_json = "{";
  for (auto& [s, count] : statuses) {
    if (status_json.size() > 1) status_json += ",";
    status_json += "\"" + std::to_string(s) + "\":" + std::to_string(count);
  }
  status_json += "}";
  std::string json =
      "{\"mode\":\"rate\",\"target\":\"" + target + "\",\"rps_target\":" + Num(rps) +
      ",\"conns\":" + std::to_string(nconns) + ",\"duration_s\":" + Num(duration) +
      ",\"sent\":" + std::to_string(sent_measured) + ",\"answered\":" + std::to_string(answered) +
      ",\"rps_achieved\":" + Num(static_cast<double>(answered) / duration) +
      ",\"sent_rps\":" + Num(static_cast<double>(sent_measured) / duration) +
      ",\"generator_shortfall\":" + std::to_string(shortfall) +
      ",\"unsent_at_end\":" + std::to_string(backlog) + ",\"errors\":" + std::to_string(errors) +
      ",\"reconnects\":" + std::to_string(reconnects) + ",\"statuses\":" + status_json +
      ",\"latency\":" + Percentiles(all_ms) + ",\"admitted_latency\":" + Percentiles(ok_ms);
  if (p0 && p1 && window > 0) {
    json += ",\"server_cpu_core_fraction\":" + Num((p1->cpu_seconds - p0->cpu_seconds) / window) +
            ",\"server_rss_mib\":" + Num(p1->rss_mib) + ",\"server_hwm_mib\":" + Num(p1->hwm_mib);
  }
  json += "}";
  WriteOut(args, json);
  return 0;
}

// ---- Cold start ----

int RunColdStart(const Args& args) {
  if (args.rest.empty()) Die("coldstart needs -- COMMAND...");
  const Endpoint ep = ParseUrl(args.Get("url"));
  const std::string log = args.Get("log", "/dev/null");
  const double timeout_s = args.Num("timeout", 10);
  std::vector<char*> argv;
  for (const std::string& s : args.rest) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  const auto t0 = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::setpgid(0, 0);  // not in loadgen's process group: it outlives loadgen
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  const std::string request =
      "GET /readyz HTTP/1.1\r\nHost: " + ep.host_header + "\r\nConnection: close\r\n\r\n";
  std::uint64_t attempts = 0;
  int last_status = 0;
  while (MsSince(t0, Clock::now()) < timeout_s * 1000) {
    ++attempts;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), sizeof ep.addr) == 0 &&
        SendAll(fd, request)) {
      std::string in;
      char buf[4096];
      ssize_t r;
      while ((r = ::recv(fd, buf, sizeof buf, 0)) > 0) in.append(buf, static_cast<std::size_t>(r));
      if (in.size() > 12) last_status = std::atoi(in.c_str() + 9);
      if (last_status == 200) {
        const double ms = MsSince(t0, Clock::now());
        ::close(fd);
        WriteOut(args, "{\"mode\":\"coldstart\",\"ready_ms\":" + Num(ms) + ",\"pid\":" +
                           std::to_string(pid) + ",\"attempts\":" + std::to_string(attempts) + "}");
        return 0;
      }
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(pid, SIGTERM);
  Die("not ready within " + Num(timeout_s) + " s (last status " + std::to_string(last_status) +
      "); see " + log);
}

}  // namespace
}  // namespace registry::loadgen

int main(int argc, char** argv) {
  using namespace registry::loadgen;
  const Args args = ParseArgs(argc, argv);
  if (args.command == "cycles") return RunCycles(args);
  if (args.command == "stream") return RunStream(args);
  if (args.command == "rate") return RunRate(args);
  if (args.command == "coldstart") return RunColdStart(args);
  std::fprintf(stderr, "loadgen: unknown command %s\n", args.command.c_str());
  return 2;
}
