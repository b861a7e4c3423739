#include "storage/postgres_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "registry/storage/postgres_store.h"

namespace registry::storage::testing {

using util::Error;
using util::ErrorCode;

namespace {

constexpr const char* kSuperuser = "svcr";
constexpr auto kStartTimeout = std::chrono::seconds(60);

Error Fail(const std::string& message) {
  return Error(ErrorCode::kInternal, "test postgres cluster: " + message);
}

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// The last `max` bytes of a log file, for error messages.
std::string LogTail(const std::string& path, std::size_t max = 3000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max) s = "…" + s.substr(s.size() - max);
  return s;
}

// Who runs initdb and postgres: nobody else when we are not root.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

util::Result<RunAs> ChooseUser() {
  RunAs who;
  if (::geteuid() != 0) return who;
  for (const char* name : {"postgres", "nobody"}) {
    if (passwd* pw = ::getpwnam(name); pw != nullptr && pw->pw_uid != 0) {
      who.switch_user = true;
      who.uid = pw->pw_uid;
      who.gid = pw->pw_gid;
      who.name = name;
      return who;
    }
  }
  return Fail(
      "running as root and there is neither a `postgres` nor a `nobody` user to run "
      "the server as (PostgreSQL refuses to run as root)");
}

util::Result<std::string> FindBinDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("REGISTRY_TEST_PG_BINDIR"); env != nullptr && *env != '\0') {
    if (::access((std::string(env) + "/postgres").c_str(), X_OK) == 0 &&
        ::access((std::string(env) + "/initdb").c_str(), X_OK) == 0) {
      return std::string(env);
    }
    return Fail(std::string("REGISTRY_TEST_PG_BINDIR=") + env +
                " holds no executable initdb and postgres");
  }
  int best = -1;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string major = e.path().filename().string();
    if (major.empty() || !std::all_of(major.begin(), major.end(), ::isdigit)) continue;
    const std::string bin = e.path().string() + "/bin";
    if (::access((bin + "/initdb").c_str(), X_OK) == 0 &&
        ::access((bin + "/postgres").c_str(), X_OK) == 0) {
      best = std::max(best, std::stoi(major));
    }
  }
  if (best < 0) {
    return Fail(
        "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/<major>/bin/initdb "
        "and postgres). Install Debian's `postgresql` package (scripts/setup.sh does) or set "
        "REGISTRY_TEST_PG_BINDIR. The postgres backend tests cannot run without them.");
  }
  return "/usr/lib/postgresql/" + std::to_string(best) + "/bin";
}

// A free TCP port on 127.0.0.1 (free now; the server may still lose a race for it, and then
// Start tries another).
util::Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(Errno("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string e = Errno("bind 127.0.0.1:0");
    ::close(fd);
    return Fail(e);
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

// Starts `argv` as `who`, in `cwd`, with exactly `env`, stdout and stderr appended to
// `log_path`. With `die_with_parent` the child gets SIGQUIT (PostgreSQL's immediate shutdown)
// when this thread exits.
util::Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          const RunAs& who, const std::string& cwd, const std::string& log_path,
                          bool die_with_parent) {
  // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Fail(Errno(("open " + log_path).c_str()));
  if (who.switch_user && ::fchown(log_fd, who.uid, who.gid) != 0) {
    ::close(log_fd);
    return Fail(Errno("fchown log"));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(null_fd);
    return Fail(Errno("fork"));
  }
  if (pid == 0) {
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(126);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);  // nothing of the test process leaks into postgres
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    if (who.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) {
        ::_exit(126);
      }
    }
    // After the uid change, which would clear it.
    if (die_with_parent) {
      if (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent) ::_exit(126);
    }
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  return pid;
}

util::Status RunToCompletion(const std::vector<std::string>& argv, const RunAs& who,
                             const std::string& cwd, const std::string& log_path) {
  REGISTRY_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"},
                                             who, cwd, log_path, /*die_with_parent=*/false));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Fail(Errno("waitpid"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(argv[0] + " failed (status " + std::to_string(status) + "):\n" + LogTail(log_path));
  }
  return util::Status::Ok();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Runs a statement on the cluster's `postgres` database as the superuser.
util::Status AdminExec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  if (!error.empty()) return Fail(sql + ": " + error);
  return util::Status::Ok();
}

// Where the pristine data directory of `bindir`'s initdb is kept, per user of the test
// process. The suffix names the initdb options below; change it when they change.
std::string TemplatePath(const std::string& base, const std::string& bindir) {
  std::string key = bindir;
  std::replace(key.begin(), key.end(), '/', '_');
  return base + "/registry-pg-template-v1-" + std::to_string(::geteuid()) + key;
}

// Only a template that we own and nobody else can write to is trusted (it lives in a shared
// directory such as /tmp).
bool TemplateTrusted(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
         (st.st_mode & 077) == 0 && ::access((path + "/data/PG_VERSION").c_str(), R_OK) == 0;
}

// Copies the template's data directory to `data` and hands it to `who`; false when there is
// no usable template (the caller runs initdb).
bool CopyFromTemplate(const std::string& template_dir, const std::string& data, const RunAs& who) {
  namespace fs = std::filesystem;
  if (!TemplateTrusted(template_dir)) return false;
  std::error_code ec;
  fs::copy(template_dir + "/data", data, fs::copy_options::recursive, ec);
  if (ec) {
    fs::remove_all(data, ec);
    return false;
  }
  if (who.switch_user) {
    bool ok = ::lchown(data.c_str(), who.uid, who.gid) == 0;
    for (auto it = fs::recursive_directory_iterator(data, ec); ok && !ec && it != fs::end(it);
         it.increment(ec)) {
      ok = ::lchown(it->path().c_str(), who.uid, who.gid) == 0;
    }
    if (!ok || ec) {
      fs::remove_all(data, ec);
      return false;
    }
  }
  return ::chmod(data.c_str(), 0700) == 0;
}

// Best effort: publishes a copy of a fresh data directory as the template, atomically (a
// rename), so a concurrent process sees either no template or a whole one.
void SaveTemplate(const std::string& data, const std::string& template_dir) {
  namespace fs = std::filesystem;
  std::string tmp = template_dir + ".tmp-XXXXXX";
  if (::mkdtemp(tmp.data()) == nullptr) return;
  std::error_code ec;
  fs::copy(data, tmp + "/data", fs::copy_options::recursive, ec);
  if (!ec) ::sync();  // initdb ran with --no-sync: a template must survive a machine crash
  if (ec || ::rename(tmp.c_str(), template_dir.c_str()) != 0) fs::remove_all(tmp, ec);
}

}  // namespace

util::Result<PostgresCluster*> PostgresCluster::Get() {
  static std::once_flag once;
  static std::unique_ptr<PostgresCluster> cluster;
  static std::optional<Error> error;
  std::call_once(once, [] {
    std::unique_ptr<PostgresCluster> c(new PostgresCluster());
    util::Status started = c->Start();
    if (started.ok()) {
      cluster = std::move(c);
    } else {
      error = started.error();
    }
  });
  if (error.has_value()) return *error;
  return cluster.get();
}

PostgresCluster::~PostgresCluster() { Stop(); }

util::Status PostgresCluster::Start() {
  REGISTRY_ASSIGN_OR_RETURN(bindir_, FindBinDir());
  REGISTRY_ASSIGN_OR_RETURN(RunAs who, ChooseUser());
  // The unprivileged user must be able to reach the directory: /tmp, not a private $TMPDIR.
  std::string base = "/tmp";
  if (!who.switch_user) {
    if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') base = t;
  }
  std::string pattern = base + "/registry-pg-XXXXXX";
  if (pattern.size() > 80) pattern = "/tmp/registry-pg-XXXXXX";  // the socket path limit is 107
  if (::mkdtemp(pattern.data()) == nullptr) return Fail(Errno(("mkdtemp " + pattern).c_str()));
  dir_ = pattern;
  if (who.switch_user && ::chown(dir_.c_str(), who.uid, who.gid) != 0) {
    return Fail(Errno(("chown " + dir_ + " to " + who.name).c_str()));
  }

  const std::string log = dir_ + "/server.log";
  // Benchmarks ask for a server that syncs its WAL like a production one.
  const char* durable_env = std::getenv("REGISTRY_TEST_PG_FSYNC");
  const bool durable = durable_env != nullptr && std::string_view(durable_env) == "1";
  // initdb takes seconds and ctest runs every test in its own process: the first process
  // keeps a pristine copy of the data directory, the later ones copy it.
  const std::string template_dir = TemplatePath(base, bindir_);
  if (!CopyFromTemplate(template_dir, dir_ + "/data", who)) {
    REGISTRY_RETURN_IF_ERROR(
        RunToCompletion({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", kSuperuser,
                         "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"},
                        who, dir_, log));
    SaveTemplate(dir_ + "/data", template_dir);
  }

  // postgres reports readiness through sd_notify (Debian builds it --with-systemd) on the
  // datagram socket named by NOTIFY_SOCKET.
  const std::string notify_path = dir_ + "/notify.sock";
  Fd notify{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (notify.fd < 0) return Fail(Errno("socket AF_UNIX"));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_path.c_str(), sizeof(addr.sun_path) - 1);
  if (::bind(notify.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Fail(Errno(("bind " + notify_path).c_str()));
  }
  if (::chmod(notify_path.c_str(), 0666) != 0) return Fail(Errno("chmod notify socket"));

  for (int attempt = 1;; ++attempt) {
    REGISTRY_ASSIGN_OR_RETURN(port_, FreePort());
    std::vector<std::string> argv = {bindir_ + "/postgres",
                                     "-D",
                                     dir_ + "/data",
                                     "-k",
                                     dir_,
                                     "-h",
                                     "127.0.0.1",
                                     "-p",
                                     std::to_string(port_),
                                     "-c",
                                     "max_connections=200",
                                     "-c",
                                     "shared_buffers=32MB"};
    if (!durable) {
      for (const char* setting : {"fsync=off", "synchronous_commit=off", "full_page_writes=off"}) {
        argv.push_back("-c");
        argv.push_back(setting);
      }
    }
    REGISTRY_ASSIGN_OR_RETURN(
        postmaster_,
        Spawn(argv, {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", "NOTIFY_SOCKET=" + notify_path},
              who, dir_, log, /*die_with_parent=*/true));
    Fd pidfd{static_cast<int>(::syscall(SYS_pidfd_open, postmaster_, 0))};
    if (pidfd.fd < 0) return Fail(Errno("pidfd_open"));
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    bool ready = false;
    bool exited = false;
    while (!ready && !exited) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd fds[2] = {{notify.fd, POLLIN, 0}, {pidfd.fd, POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
        return Fail(Errno("poll"));
      }
      if ((fds[0].revents & POLLIN) != 0) {
        char buf[4096];
        const ssize_t n = ::recv(notify.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).find("READY=1") !=
                         std::string_view::npos) {
          ready = true;
        }
      }
      if (!ready && (fds[1].revents & POLLIN) != 0) exited = true;
    }
    if (ready) return util::Status::Ok();
    if (!exited) {
      ::kill(postmaster_, SIGQUIT);
    }
    int status = 0;
    ::waitpid(postmaster_, &status, 0);
    postmaster_ = -1;
    const std::string tail = LogTail(log);
    if (exited && attempt < 5 && tail.find("could not bind") != std::string::npos) continue;
    return Fail(std::string(exited ? "postgres exited during start-up"
                                   : "postgres did not report ready within 60 s") +
                ":\n" + tail);
  }
}

void PostgresCluster::Stop() {
  if (postmaster_ > 0) {
    ::kill(postmaster_, SIGINT);  // fast shutdown: disconnects clients, no waiting for them
    int status = 0;
    while (::waitpid(postmaster_, &status, 0) < 0 && errno == EINTR) {
    }
    postmaster_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string PostgresCluster::ConnInfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=" + std::to_string(port_) + " user=" + kSuperuser +
         " dbname=" + dbname;
}

std::string PostgresCluster::TcpConnInfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + kSuperuser +
         " dbname=" + dbname + " sslmode=disable";
}

util::Result<std::string> PostgresCluster::CreateDatabase() {
  const std::string name = "t_" + std::to_string(next_db_++);
  REGISTRY_RETURN_IF_ERROR(AdminExec(ConnInfo("postgres"), "CREATE DATABASE " + name));
  return ConnInfo(name);
}

std::unique_ptr<Store> OpenPostgresForTest() {
  auto fail = [](const std::string& why) { FAIL() << why; };
  util::Result<PostgresCluster*> cluster = PostgresCluster::Get();
  if (!cluster.ok()) {
    fail(cluster.error().message());
    return nullptr;
  }
  util::Result<std::string> conninfo = (*cluster)->CreateDatabase();
  if (!conninfo.ok()) {
    fail(conninfo.error().message());
    return nullptr;
  }
  PostgresStore::Options options;
  options.conninfo = *conninfo;
  util::Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  if (!store.ok()) {
    fail("PostgresStore::Open: " + store.error().message());
    return nullptr;
  }
  return std::move(store).value();
}

}  // namespace registry::storage::testing
