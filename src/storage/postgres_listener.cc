#include "postgres_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <charconv>
#include <utility>

namespace registry::storage::internal {

using util::Error;
using util::ErrorCode;

std::string CommitNotification(std::uint64_t version) { return "c:" + std::to_string(version); }

std::string ProposalNotification(std::string_view proposal_id) {
  return "p:" + std::string(proposal_id);
}

PgListener::PgListener(std::string conninfo, std::chrono::milliseconds resync_interval,
                       std::chrono::milliseconds retry_interval,
                       PostgresStore::ChangeCallback callback)
    : conninfo_(std::move(conninfo)),
      resync_interval_(resync_interval),
      retry_interval_(retry_interval),
      callback_(std::move(callback)),
      wake_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  REGISTRY_CHECK(wake_fd_ >= 0, "postgres listener: eventfd failed");
}

PgListener::~PgListener() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    REGISTRY_CHECK(::write(wake_fd_, &one, sizeof(one)) == sizeof(one),
                   "postgres listener: eventfd write failed");
    thread_.join();
  }
  ::close(wake_fd_);
}

util::Status PgListener::Start() {
  REGISTRY_RETURN_IF_ERROR(Connect());
  thread_ = std::thread([this] { Run(); });
  return util::Status::Ok();
}

util::Status PgListener::Connect() {
  conn_.reset();
  REGISTRY_ASSIGN_OR_RETURN(conn_, PgConnection::Open(conninfo_, "svc-registry-listener"));
  const std::string listen = std::string("LISTEN ") + PostgresStore::kChannel;
  util::Result<PgResult> r = conn_->Exec("postgres listener: LISTEN", listen.c_str());
  if (!r.ok()) {
    conn_.reset();
    return std::move(r).error();
  }
  return util::Status::Ok();
}

bool PgListener::Resync(bool always) {
  util::Result<PgResult> r =
      conn_->Exec("postgres listener: HEAD", "SELECT version FROM head WHERE id = 1");
  if (!r.ok() || r->rows() != 1) return false;
  const auto head = static_cast<std::uint64_t>(r->Int64(0, 0));
  // Notifications that arrived while the query ran are older than this HEAD; they are
  // reported after it, and a subscriber ignores versions it already has.
  if (always || head != last_head_) {
    if (head > last_head_) last_head_ = head;
    callback_(StoreChange{StoreChange::Kind::kResync, head, {}});
  }
  return true;
}

void PgListener::Drain() {
  while (PGnotify* n = PQnotifies(conn_->raw())) {
    std::string_view payload = n->extra != nullptr ? n->extra : "";
    StoreChange change;
    bool known = false;
    if (payload.starts_with("c:")) {
      std::uint64_t v = 0;
      const char* first = payload.data() + 2;
      const char* last = payload.data() + payload.size();
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec == std::errc() && ptr == last) {
        change.kind = StoreChange::Kind::kCommit;
        change.version = v;
        if (v > last_head_) last_head_ = v;
        known = true;
      }
    } else if (payload.starts_with("p:")) {
      change.kind = StoreChange::Kind::kProposal;
      change.proposal_id = std::string(payload.substr(2));
      known = true;
    }
    PQfreemem(n);
    if (known) callback_(change);
  }
}

bool PgListener::WaitForStop(std::chrono::milliseconds timeout) {
  pollfd fd{wake_fd_, POLLIN, 0};
  return ::poll(&fd, 1, static_cast<int>(timeout.count())) > 0;
}

void PgListener::Run() {
  bool connected = conn_ != nullptr && Resync(/*always=*/true);
  // A query (Resync) reads whatever the server sent meanwhile into libpq's buffer, where poll
  // cannot see it: drain after every one.
  if (connected) Drain();
  while (true) {
    if (!connected) {
      conn_.reset();
      // Reconnect until it works or we are told to stop; a fresh LISTEN may have missed
      // notifications, hence the kResync.
      while (true) {
        if (WaitForStop(retry_interval_)) return;
        if (Connect().ok() && Resync(/*always=*/true)) break;
      }
      connected = true;
      Drain();
    }
    pollfd fds[2] = {{PQsocket(conn_->raw()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(resync_interval_.count()));
    if (n < 0) continue;  // EINTR
    if ((fds[1].revents & POLLIN) != 0) return;
    if (n == 0) {
      connected = Resync(/*always=*/false);
      if (connected) Drain();
      continue;
    }
    if (PQconsumeInput(conn_->raw()) == 0 || !conn_->Healthy()) {
      Drain();  // what arrived before the loss is still good
      connected = false;
      continue;
    }
    Drain();
  }
}

}  // namespace registry::storage::internal
