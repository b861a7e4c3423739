// A SQLite connection with a cache of prepared statements, and a scoped use of one
// statement. The only place of the backend that calls the sqlite3_* API directly besides
// schema setup.
//
// A Connection is used by one thread at a time (the writer thread, or the reader that
// leased it from the pool); it is not thread-safe. Errors carry the SQLite message and
// extended code, prefixed with what was being done.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "registry/util/result.h"

namespace registry::storage::internal {

class Statement;

class Connection {
 public:
  // Opens `path` read-write (creating it when missing) in multi-thread mode.
  static util::Result<std::unique_ptr<Connection>> Open(const std::string& path);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows of interest.
  util::Status Exec(const char* sql, std::string_view what);

  // The cached prepared statement for `sql`, ready to bind. The Statement resets it when it
  // goes out of scope.
  util::Result<Statement> Prepare(const char* sql, std::string_view what);

  // The error for SQLite result code `rc`: "<what>: <message> (<extended code>)".
  util::Error ErrorFor(int rc, std::string_view what) const;

  // True while a transaction is open (false after SQLite rolled one back by itself).
  bool InTransaction() const;

  std::int64_t LastInsertRowid() const;
  std::int64_t Changes() const;

  sqlite3* raw() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;  // keyed by the SQL text
};

// One use of a prepared statement: bind, step, read columns. Binding copies its argument
// (SQLITE_TRANSIENT), so temporaries are fine. Move-only; resets the statement on
// destruction.
class Statement {
 public:
  Statement(Connection* conn, sqlite3_stmt* stmt, std::string_view what)
      : conn_(conn), stmt_(stmt), what_(what) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  Statement& Bind(int index, std::int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindNull(int index);

  // One step: true when a row is available, false when done.
  util::Result<bool> Step();
  // Steps to completion, expecting no row.
  util::Status Run();

  // Columns are 0-based, as in SQLite.
  std::int64_t Int(int column) const;
  std::string_view Text(int column) const;
  std::string_view Blob(int column) const;
  bool IsNull(int column) const;

 private:
  Connection* conn_;
  sqlite3_stmt* stmt_;
  std::string_view what_;
  int bind_rc_ = SQLITE_OK;  // first binding error, reported by Step
};

}  // namespace registry::storage::internal
