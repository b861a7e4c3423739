// ReaderPool: the reader connections of the SQLite backend (query_only, WAL readers that
// never wait for the writer), opened on demand up to a maximum, each with its own cache of
// prepared statements. Acquire blocks while all of them are leased.
//
// Thread-safe. A Lease MUST be destroyed before the pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/util/result.h"
#include "sqlite_connection.h"
#include "sqlite_schema.h"

namespace registry::storage::internal {

class ReaderPool {
 public:
  ReaderPool(std::string path, std::size_t max_connections, ConnectionSettings settings);

  // Exclusive use of one connection until destroyed. A read transaction left open (after
  // an error) is rolled back on return to the pool.
  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  util::Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Connection> conn);

  const std::string path_;
  const std::size_t max_;
  const ConnectionSettings settings_;
  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

}  // namespace registry::storage::internal
