#include "logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "registry/json/canonical.h"
#include "registry/util/time.h"

namespace registry::app {

namespace {

spdlog::level::level_enum ToSpdlog(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return spdlog::level::trace;
    case config::LogLevel::kDebug:
      return spdlog::level::debug;
    case config::LogLevel::kInfo:
      return spdlog::level::info;
    case config::LogLevel::kWarn:
      return spdlog::level::warn;
    case config::LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::string_view LevelName(int level) {
  switch (level) {
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    default:
      return "info";
  }
}

}  // namespace

Logger::Logger(config::LogFormat format, config::LogLevel level) : format_(format) {
  logger_ = std::make_shared<spdlog::logger>("svc-registry",
                                             std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger_->set_pattern("%v");
  logger_->set_level(ToSpdlog(level));
  logger_->flush_on(spdlog::level::trace);
}

Logger::~Logger() { logger_->flush(); }

void Logger::Info(std::string_view event, std::initializer_list<Field> fields) {
  Write(spdlog::level::info, event, fields);
}
void Logger::Warn(std::string_view event, std::initializer_list<Field> fields) {
  Write(spdlog::level::warn, event, fields);
}
void Logger::Error(std::string_view event, std::initializer_list<Field> fields) {
  Write(spdlog::level::err, event, fields);
}

void Logger::Write(int level, std::string_view event, std::initializer_list<Field> fields) {
  auto lvl = static_cast<spdlog::level::level_enum>(level);
  if (!logger_->should_log(lvl)) return;
  std::string ts = util::FormatRfc3339Millis(util::SystemClock().NowMillis());
  std::string line;
  if (format_ == config::LogFormat::kJson) {
    line = "{\"ts\":\"" + ts + "\",\"level\":\"" + std::string(LevelName(level)) + "\",\"event\":";
    json::AppendCanonicalString(event, line);
    for (const Field& f : fields) {
      line += ',';
      json::AppendCanonicalString(f.first, line);
      line += ':';
      json::AppendCanonical(f.second, line);
    }
    line += '}';
  } else {
    line = ts + " " + std::string(LevelName(level)) + " " + std::string(event);
    for (const Field& f : fields) {
      line += ' ';
      line += f.first;
      line += '=';
      if (f.second.is_string()) {
        line += f.second.as_string();
      } else {
        json::AppendCanonical(f.second, line);
      }
    }
  }
  logger_->log(lvl, line);
}

void RequestLog::Log(std::string_view corr_id, metrics::Route route, std::string_view method,
                     int status, double latency_ms, std::string_view remote) {
  log_->Info("request", {{"corr_id", corr_id},
                         {"route", metrics::RouteLabel(route)},
                         {"method", method},
                         {"status", status},
                         {"latency_ms", std::round(latency_ms * 1000.0) / 1000.0},
                         {"remote", remote}});
}

void RequestLog::Audit(std::string_view action, std::string_view corr_id) {
  log_->Warn("audit", {{"action", action}, {"corr_id", corr_id}});
}

}  // namespace registry::app
