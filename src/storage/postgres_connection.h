// The libpq layer of the PostgreSQL backend: one connection (PgConnection), its results
// (PgResult), typed parameters (PgParams), and a bounded pool of connections. The only place
// of the backend besides the listener that calls the PQ* API.
//
// Every value travels in binary format: parameters are bound with explicit type OIDs (int2,
// int8, text, bytea), results are requested in binary, so bytes round-trip exactly (NUL bytes
// included) and nothing is quoted into SQL text.
//
// A PgConnection is used by one thread at a time (the caller that leased it from the pool);
// PgPool is thread-safe. Error messages name the operation and carry the server's message
// and SQLSTATE; they never contain the connection string (it may hold a password).
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/util/result.h"

namespace registry::storage::internal {

// SQLSTATEs the backend tells apart.
inline constexpr std::string_view kSqlStateUniqueViolation = "23505";
inline constexpr std::string_view kSqlStateForeignKeyViolation = "23503";

// Parameters of one statement, in order ($1, $2, ...). Bytes/Text keep a pointer to the
// caller's data, which MUST outlive the Exec call; integers are copied.
class PgParams {
 public:
  PgParams& Int64(std::int64_t v);
  PgParams& Int16(std::int16_t v);
  PgParams& Text(std::string_view v);
  PgParams& Bytes(std::string_view v);

  int size() const { return static_cast<int>(values_.size()); }
  const unsigned int* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Add(unsigned int oid, const char* data, std::size_t len);

  std::deque<std::string> owned_;  // integer encodings; a deque never moves its elements
  std::vector<unsigned int> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A result in binary format. Column accessors REQUIRE the column to have the named type.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  int rows() const { return PQntuples(r_.get()); }
  // Rows touched by an INSERT/UPDATE/DELETE.
  std::int64_t affected() const;
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view Bytes(int row, int col) const;  // bytea or text
  std::string String(int row, int col) const { return std::string(Bytes(row, col)); }
  std::int64_t Int64(int row, int col) const;  // int8
  std::int16_t Int16(int row, int col) const;  // int2

 private:
  struct Clear {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> r_;
};

class PgConnection {
 public:
  // Connects with `conninfo` (a URI or key=value string) and prepares the session:
  // UTF-8 client encoding, and synchronous_commit raised to `on` when the server default is
  // `off` (a mutating call must be durable before it returns). kInternal on failure.
  static util::Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo,
                                                          std::string_view application_name);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. On failure the error is kInternal, "<what>: <server message>
  // (SQLSTATE xxxxx)", and `sqlstate` (when given) receives the SQLSTATE.
  util::Result<PgResult> Exec(std::string_view what, const char* sql,
                              const PgParams& params = PgParams(), std::string* sqlstate = nullptr);

  // False once the connection to the server is lost; the pool then drops it.
  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // True while a transaction block is open (or failed and not yet rolled back).
  bool InTransaction() const;

  PGconn* raw() const { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// A bounded pool of connections to one database, opened on demand.
class PgPool {
 public:
  PgPool(std::string conninfo, std::size_t max_connections);
  ~PgPool();

  // A connection leased from the pool; it goes back on destruction, or is closed when it is
  // no longer healthy or still inside a transaction.
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection* operator->() const { return conn_.get(); }
    PgConnection& operator*() const { return *conn_; }
    // Closes the connection instead of returning it (its state is unknown).
    void Discard() { conn_.reset(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  // An idle connection, or a new one while fewer than max_connections are open; otherwise
  // waits for one to come back.
  util::Result<Lease> Acquire();
  // Closes every idle connection (after a failover, so that no stale one is used again).
  void DropIdle();

  std::size_t open_connections() const;

 private:
  void Return(std::unique_ptr<PgConnection> conn);

  const std::string conninfo_;
  const std::size_t max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t open_ = 0;  // leased + idle
};

}  // namespace registry::storage::internal
