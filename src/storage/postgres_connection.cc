#include "postgres_connection.h"

#include <endian.h>

#include <cstring>
#include <utility>

namespace registry::storage::internal {

using util::Error;
using util::ErrorCode;

namespace {

// Type OIDs of pg_type (stable across server versions).
constexpr unsigned int kInt8Oid = 20;
constexpr unsigned int kInt2Oid = 21;
constexpr unsigned int kTextOid = 25;
constexpr unsigned int kByteaOid = 17;

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void PgParams::Add(unsigned int oid, const char* data, std::size_t len) {
  types_.push_back(oid);
  values_.push_back(data);
  lengths_.push_back(static_cast<int>(len));
  formats_.push_back(1);
}

PgParams& PgParams::Int64(std::int64_t v) {
  const std::uint64_t be = htobe64(static_cast<std::uint64_t>(v));
  owned_.emplace_back(reinterpret_cast<const char*>(&be), sizeof(be));
  Add(kInt8Oid, owned_.back().data(), sizeof(be));
  return *this;
}

PgParams& PgParams::Int16(std::int16_t v) {
  const std::uint16_t be = htobe16(static_cast<std::uint16_t>(v));
  owned_.emplace_back(reinterpret_cast<const char*>(&be), sizeof(be));
  Add(kInt2Oid, owned_.back().data(), sizeof(be));
  return *this;
}

PgParams& PgParams::Text(std::string_view v) {
  // A zero-length value still needs a non-null pointer (null means SQL NULL).
  Add(kTextOid, v.empty() ? "" : v.data(), v.size());
  return *this;
}

PgParams& PgParams::Bytes(std::string_view v) {
  Add(kByteaOid, v.empty() ? "" : v.data(), v.size());
  return *this;
}

std::int64_t PgResult::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return (n == nullptr || *n == '\0') ? 0 : std::strtoll(n, nullptr, 10);
}

std::string_view PgResult::Bytes(int row, int col) const {
  return std::string_view(PQgetvalue(r_.get(), row, col),
                          static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

std::int64_t PgResult::Int64(int row, int col) const {
  std::string_view b = Bytes(row, col);
  REGISTRY_CHECK(b.size() == 8, "postgres: int8 column expected");
  std::uint64_t be;
  std::memcpy(&be, b.data(), 8);
  return static_cast<std::int64_t>(be64toh(be));
}

std::int16_t PgResult::Int16(int row, int col) const {
  std::string_view b = Bytes(row, col);
  REGISTRY_CHECK(b.size() == 2, "postgres: int2 column expected");
  std::uint16_t be;
  std::memcpy(&be, b.data(), 2);
  return static_cast<std::int16_t>(be16toh(be));
}

util::Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& conninfo,
                                                               std::string_view application_name) {
  // dbname is expanded as a full connection string; the keyword before it is a default it
  // may override, the one after it is only a fallback.
  const std::string app(application_name);
  const char* keywords[] = {"connect_timeout", "dbname", "fallback_application_name", nullptr};
  const char* values[] = {"10", conninfo.c_str(), app.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Error(ErrorCode::kInternal, "postgres: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host and the cause, never the password.
    std::string message = "postgres: cannot connect: " + Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Error(ErrorCode::kInternal, std::move(message));
  }
  // libpq prints server notices (and the reason a connection was closed) to stderr by
  // default; the service logs in JSON and reports failures through the errors it returns.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> c(new PgConnection(conn));
  if (PQsetClientEncoding(conn, "UTF8") != 0) {
    return Error(ErrorCode::kInternal, "postgres: cannot set client encoding UTF8");
  }
  REGISTRY_ASSIGN_OR_RETURN(
      PgResult r, c->Exec("postgres: SHOW synchronous_commit", "SHOW synchronous_commit"));
  // A server configured with synchronous_commit = off would acknowledge commits it has not
  // flushed. Stronger settings (remote_write, remote_apply) are kept as they are.
  if (r.rows() == 1 && r.Bytes(0, 0) == "off") {
    REGISTRY_RETURN_IF_ERROR(
        c->Exec("postgres: SET synchronous_commit", "SET synchronous_commit TO on"));
  }
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::InTransaction() const {
  const PGTransactionStatusType s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

util::Result<PgResult> PgConnection::Exec(std::string_view what, const char* sql,
                                          const PgParams& params, std::string* sqlstate) {
  PGresult* raw = PQexecParams(conn_, sql, params.size(), params.types(), params.values(),
                               params.lengths(), params.formats(), /*resultFormat=*/1);
  PgResult result(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  const char* state = raw != nullptr ? PQresultErrorField(raw, PG_DIAG_SQLSTATE) : nullptr;
  if (sqlstate != nullptr) *sqlstate = state != nullptr ? state : "";
  std::string message = std::string(what) + ": " +
                        Trimmed(raw != nullptr ? PQresultErrorMessage(raw) : PQerrorMessage(conn_));
  if (message.back() == ' ') message += Trimmed(PQerrorMessage(conn_));
  if (state != nullptr) message += std::string(" (SQLSTATE ") + state + ")";
  if (!Healthy()) message += " (connection lost)";
  return Error(ErrorCode::kInternal, std::move(message));
}

PgPool::PgPool(std::string conninfo, std::size_t max_connections)
    : conninfo_(std::move(conninfo)), max_(max_connections < 1 ? 1 : max_connections) {}

PgPool::~PgPool() {
  std::lock_guard lock(mu_);
  REGISTRY_CHECK(open_ == idle_.size(), "PgPool destroyed with connections leased");
  idle_.clear();
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(conn_));
}

util::Result<PgPool::Lease> PgPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot while connecting without the lock
  }
  util::Result<std::unique_ptr<PgConnection>> conn = PgConnection::Open(conninfo_, "svc-registry");
  if (!conn.ok()) {
    Return(nullptr);
    return std::move(conn).error();
  }
  return Lease(this, std::move(conn).value());
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  std::unique_ptr<PgConnection> closing;
  {
    std::lock_guard lock(mu_);
    if (conn != nullptr && conn->Healthy() && !conn->InTransaction()) {
      idle_.push_back(std::move(conn));
    } else {
      closing = std::move(conn);  // closed outside the lock
      --open_;
    }
  }
  cv_.notify_one();
}

void PgPool::DropIdle() {
  std::vector<std::unique_ptr<PgConnection>> closing;
  {
    std::lock_guard lock(mu_);
    open_ -= idle_.size();
    closing.swap(idle_);
  }
  cv_.notify_all();
}

std::size_t PgPool::open_connections() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace registry::storage::internal
