// Structured logs for the service binary: JSON lines by default (`ts`, `level`, `event`, then
// the event's fields), or a human text form (log.format = text). Backed by spdlog writing to
// stdout. Never log tokens, keys or whole payloads. Thread-safe.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "registry/api/service.h"
#include "registry/config/config.h"
#include "registry/json/value.h"

namespace spdlog {
class logger;
}

namespace registry::app {

using Field = std::pair<std::string_view, json::Value>;

class Logger {
 public:
  Logger(config::LogFormat format, config::LogLevel level);
  ~Logger();

  void Info(std::string_view event, std::initializer_list<Field> fields = {});
  void Warn(std::string_view event, std::initializer_list<Field> fields = {});
  void Error(std::string_view event, std::initializer_list<Field> fields = {});

 private:
  void Write(int level, std::string_view event, std::initializer_list<Field> fields);

  config::LogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
};

// The access log: one line per request (event "request").
class RequestLog final : public api::AccessLog {
 public:
  explicit RequestLog(Logger* log) : log_(log) {}
  void Log(std::string_view corr_id, metrics::Route route, std::string_view method, int status,
           double latency_ms, std::string_view remote) override;
  void Audit(std::string_view action, std::string_view corr_id) override;

 private:
  Logger* log_;
};

}  // namespace registry::app
