#include "sqlite_reader_pool.h"

#include <utility>

namespace registry::storage::internal {

ReaderPool::ReaderPool(std::string path, std::size_t max_connections, ConnectionSettings settings)
    : path_(std::move(path)), max_(max_connections), settings_(settings) {}

ReaderPool::Lease::~Lease() {
  if (conn_ == nullptr) return;  // moved from
  if (conn_->InTransaction()) (void)conn_->Exec("ROLLBACK", "ROLLBACK");
  pool_->Release(std::move(conn_));
}

util::Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;
  }
  util::Result<std::unique_ptr<Connection>> conn = Connection::Open(path_);
  util::Status configured =
      conn.ok() ? ConfigureConnection(**conn, settings_) : util::Status(conn.error());
  if (!configured.ok()) {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    cv_.notify_one();
    return util::Error(util::ErrorCode::kInternal,
                       "sqlite store: reader connection: " + configured.error().message());
  }
  return Lease(this, std::move(conn).value());
}

void ReaderPool::Release(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

}  // namespace registry::storage::internal
