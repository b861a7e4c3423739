// One HTTP/1.1 connection: keep-alive, pipelining with in-order responses, admission and
// size checks at header time, lazy deadline timeouts, and SSE streaming.
//
// Everything in Session runs on the connection's strand except the entry points documented
// as "any thread", which only post to it. Timeouts use one housekeeping timer per
// connection that ticks every Core::tick and compares deadlines stored as plain time
// points, so that arming a timeout on the hot path is a store, not a timer operation.
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core.h"
#include "registry/util/check.h"
#include "request_reader.h"
#include "wire.h"

namespace registry::http::internal {
namespace {

using boost::system::error_code;

// Requests read ahead of their responses on one connection; reading pauses at the cap.
constexpr std::size_t kMaxPipeline = 16;
// Response slots; room for kMaxPipeline requests plus the 100 Continue and the final
// response of the request being read.
constexpr std::size_t kRing = 32;
// Responses gathered into one write.
constexpr std::size_t kMaxWriteBatch = 16;
// Stream chunks gathered into one write.
constexpr std::size_t kMaxStreamBatch = 32;
// Free space offered to each read.
constexpr std::size_t kMinReadSpace = 2048;
constexpr std::size_t kInitialBuffer = 4096;
// After a response that closes the connection, unread input is drained this long at most
// (so the peer gets the response rather than a reset).
constexpr std::chrono::milliseconds kMaxLinger{1000};
// Max-conns rejects being answered at once; past this, excess connections are just closed.
constexpr std::int64_t kMaxRejecting = 256;
constexpr SteadyClock::time_point kNever = SteadyClock::time_point::max();

// A contiguous input buffer: bytes [begin_, end_) are unparsed input.
class ByteBuffer {
 public:
  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  void Consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }
  // Writable space of at least `min` bytes after the data.
  net::mutable_buffer Prepare(std::size_t min) {
    if (cap_ - end_ < min) {
      const std::size_t n = end_ - begin_;
      if (begin_ > 0) {
        std::memmove(data_.get(), data_.get() + begin_, n);
        begin_ = 0;
        end_ = n;
      }
      if (cap_ - end_ < min) {
        const std::size_t cap = std::max({cap_ * 2, end_ + min, kInitialBuffer});
        auto bigger = std::make_unique_for_overwrite<char[]>(cap);
        if (n > 0) std::memcpy(bigger.get(), data_.get(), n);
        data_ = std::move(bigger);
        cap_ = cap;
      }
    }
    return net::buffer(data_.get() + end_, cap_ - end_);
  }
  void Commit(std::size_t n) { end_ += n; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace

class StreamSinkImpl;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, ListenerState* listener, Socket socket, bool reject);
  ~Session();

  // Entry points callable from any thread.
  void Start();
  void BeginDrain();
  void ForceClose();
  void Respond(std::uint64_t seq, Response response);
  void Abandon(std::uint64_t seq);
  void PostStreamDrain();
  void PostLagged();

 private:
  struct Slot {
    enum class State : std::uint8_t { kFree, kWaiting, kReady };
    State state = State::kFree;
    bool counted = false;       // holds one inflight count
    bool keep_alive = true;     // the request allows the connection to stay open
    bool force_close = false;   // the server closes after this response
    bool interim = false;       // a 100 Continue
    bool head_request = false;  // HEAD: Content-Length but no body
    Response response;
    std::string head;  // serialized when written; capacity reused

    void Reset() {
      state = State::kFree;
      counted = false;
      keep_alive = true;
      force_close = false;
      interim = false;
      head_request = false;
      response = Response();
      head.clear();
    }
  };

  void DoStart();
  // Parses buffered input and dispatches requests until it must read, pause or stop.
  void ReadLoop();
  void BeginRequest();
  void FeedOnce();
  void OnHeader();
  void OnRequestDone();
  void OnParseError();
  void Reject(int status, std::string_view code, std::string_view message, std::string_view reason);
  void StartRead();
  void OnRead(const error_code& ec, std::size_t n);
  void UpdateReadDeadline();

  std::uint64_t AllocSlot();
  Slot& SlotAt(std::uint64_t seq) { return ring_[seq % kRing]; }
  void Release(Slot& slot);
  void DropSlots();
  void Resolve(std::uint64_t seq, Response response);
  void NoteDraining();
  void TryWrite();
  void OnWrite(const error_code& ec);
  void MaybeFinish();

  void EnterStream(Response::Stream stream);
  void StreamDrain();
  void WriteHeartbeat();
  void StartStreamWrite();
  void OnStreamWrite(const error_code& ec);
  void OnLagged();

  void ArmTick();
  void OnTick(const error_code& ec);
  void GracefulClose();
  void CloseHard();

  const std::shared_ptr<Core> core_;
  ListenerState* const listener_;
  const Strand strand_;
  Socket socket_;
  Timer timer_;
  const bool reject_;  // a max_conns reject: answer 429 and close
  bool registered_ = false;
  bool counted_ = false;  // counted in the listener's connections
  std::chrono::milliseconds tick_;
  std::string remote_;

  // Reading.
  ByteBuffer in_;
  RequestReader reader_;
  bool reading_ = false;
  bool need_more_ = false;        // the reader needs bytes beyond what is buffered
  bool parsing_ = false;          // a request has begun
  bool header_accepted_ = false;  // its header passed the checks; current_seq_ is its slot
  bool no_new_requests_ = false;  // draining, EOF, Connection: close or an error
  bool read_eof_ = false;
  bool draining_ = false;
  bool in_handler_ = false;
  std::uint64_t current_seq_ = 0;
  SteadyClock::time_point request_start_{};
  SteadyClock::time_point request_deadline_ = kNever;
  SteadyClock::time_point read_deadline_ = kNever;
  bool read_deadline_is_request_ = false;

  // Responses, in request order: slots [base_seq_, next_seq_).
  std::array<Slot, kRing> ring_;
  std::uint64_t base_seq_ = 0;
  std::uint64_t next_seq_ = 0;

  // Writing: one write in flight.
  bool writing_ = false;
  std::size_t write_count_ = 0;
  bool write_closes_ = false;
  SteadyClock::time_point write_deadline_ = kNever;
  std::vector<net::const_buffer> wbufs_;
  std::vector<std::shared_ptr<const std::string>> write_bodies_;  // alive during the write

  // Closing.
  bool lingering_ = false;
  bool closed_ = false;
  SteadyClock::time_point linger_deadline_ = kNever;

  // Streaming.
  bool stream_mode_ = false;
  std::optional<Response::Stream> stream_;
  std::shared_ptr<StreamSinkImpl> sink_;
  std::vector<std::shared_ptr<const std::string>> stream_batch_;
  SteadyClock::time_point last_write_{};
  bool stream_closed_notified_ = false;
};

// The StreamSink handed to Response::Stream::on_open: a bounded queue shared between the
// producer threads and the connection's strand.
//
// Fast path: when nothing is queued and the strand is not writing, Push writes the chunk
// at once with a non-blocking send from the calling thread. A fan-out to many subscribers
// then costs one system call each, instead of a post, a strand hop, an asynchronous write
// and its completion. What the socket does not take is queued, and the strand writes it.
// Each byte goes out exactly once, in Push order: direct sends happen under mu_, only while
// the strand does not own the write side (`strand_writing_`), and stop before the socket is
// closed (`fd_` is cleared under mu_ first).
class StreamSinkImpl final : public StreamSink {
 public:
  StreamSinkImpl(std::weak_ptr<Session> session, std::size_t queue_len, int fd)
      : session_(std::move(session)), queue_len_(std::max<std::size_t>(queue_len, 1)), fd_(fd) {}

  bool Push(std::shared_ptr<const std::string> chunk) override {
    if (chunk == nullptr || closed_.load(std::memory_order_acquire)) return false;
    bool post = false;
    bool lagged = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_.load(std::memory_order_relaxed) || close_requested_) return false;
      if (!strand_writing_ && queue_.empty() && fd_ >= 0 && !chunk->empty()) {
        const ssize_t n = ::send(fd_, chunk->data(), chunk->size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(chunk->size())) {
          last_direct_write_.store(SteadyClock::now().time_since_epoch().count(),
                                   std::memory_order_relaxed);
          return true;
        }
        // The rest waits for the strand, which also reports a failed socket (n < 0 for a
        // reason other than a full buffer) by closing the connection.
        if (n > 0) chunk = std::make_shared<const std::string>(chunk->substr(n));
      }
      if (queue_.size() >= queue_len_) {
        lagged = true;
        closed_.store(true, std::memory_order_release);
        queue_.clear();
      } else {
        queue_.push_back(std::move(chunk));
        post = !drain_posted_;
        drain_posted_ = true;
      }
    }
    if (lagged || post) {
      if (auto session = session_.lock()) {
        if (lagged) {
          session->PostLagged();
        } else {
          session->PostStreamDrain();
        }
      }
    }
    return !lagged;
  }

  void Close() override {
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_.load(std::memory_order_relaxed) || close_requested_) return;
      close_requested_ = true;
      closed_.store(true, std::memory_order_release);
      post = !drain_posted_;
      drain_posted_ = true;
    }
    if (post) {
      if (auto session = session_.lock()) session->PostStreamDrain();
    }
  }

  bool closed() const override { return closed_.load(std::memory_order_acquire); }

  // Strand side: moves up to `max` queued chunks to `out`. While it returns chunks, the
  // strand owns the write side, until a later Take returns none. `close_now` is set when
  // Close() was called and nothing is left to write.
  void Take(std::vector<std::shared_ptr<const std::string>>& out, std::size_t max,
            bool* close_now) {
    std::lock_guard<std::mutex> lock(mu_);
    while (!queue_.empty() && out.size() < max) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    strand_writing_ = !out.empty();
    *close_now = false;
    if (queue_.empty()) {
      drain_posted_ = false;
      *close_now = close_requested_;
    }
  }

  // Strand side: takes the write side for a heartbeat. False when chunks are queued (they
  // are written instead, and count as traffic).
  bool ClaimForHeartbeat() {
    std::lock_guard<std::mutex> lock(mu_);
    if (strand_writing_ || !queue_.empty()) return false;
    strand_writing_ = true;
    return true;
  }

  // The last direct write, for the heartbeat's idle check.
  SteadyClock::time_point last_direct_write() const {
    return SteadyClock::time_point(
        SteadyClock::duration(last_direct_write_.load(std::memory_order_relaxed)));
  }

  // Strand side, before the socket is closed: no direct write starts after this returns.
  void MarkClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    fd_ = -1;
    closed_.store(true, std::memory_order_release);
  }

 private:
  const std::weak_ptr<Session> session_;
  const std::size_t queue_len_;
  std::mutex mu_;
  std::deque<std::shared_ptr<const std::string>> queue_;  // guarded by mu_
  int fd_;                                                // guarded by mu_; -1 once closing
  bool strand_writing_ = false;                           // guarded by mu_
  bool drain_posted_ = false;                             // guarded by mu_
  bool close_requested_ = false;                          // guarded by mu_
  std::atomic<bool> closed_{false};
  std::atomic<SteadyClock::rep> last_direct_write_{0};
};

namespace {

// Shared state of the copies of one Responder: detects a second call and a responder
// dropped without being called.
struct ResponderState {
  ResponderState(std::shared_ptr<Session> s, std::uint64_t q) : session(std::move(s)), seq(q) {}
  ~ResponderState() {
    if (!called.load(std::memory_order_acquire)) session->Abandon(seq);
  }
  std::shared_ptr<Session> session;
  const std::uint64_t seq;
  std::atomic<bool> called{false};
};

struct ResponderFn {
  std::shared_ptr<ResponderState> state;
  void operator()(Response response) const {
    const bool again = state->called.exchange(true, std::memory_order_acq_rel);
    REGISTRY_CHECK(!again, "http::Responder called more than once");
    state->session->Respond(state->seq, std::move(response));
  }
};

}  // namespace

Session::Session(std::shared_ptr<Core> core, ListenerState* listener, Socket socket, bool reject)
    : core_(std::move(core)),
      listener_(listener),
      strand_(socket.get_executor()),
      socket_(std::move(socket)),
      timer_(strand_),
      reject_(reject),
      tick_(core_->tick),
      reader_(ParseLimits{core_->limits.max_header_bytes, core_->limits.max_body_bytes}) {
  wbufs_.reserve(2 * kMaxWriteBatch + 2);
  write_bodies_.reserve(kMaxWriteBatch);
}

Session::~Session() {
  // A session destroyed without CloseHard (the I/O context stopped first) still closes its
  // socket: no direct stream write may follow.
  if (sink_) sink_->MarkClosed();
}

// ---- Entry points (any thread) ----

void Session::Start() {
  // Counted before Register publishes the session: its mutex orders these writes before any
  // drain or close that another thread starts from the registry.
  if (reject_) {
    core_->rejecting.fetch_add(1, std::memory_order_relaxed);
  } else {
    counted_ = true;
    listener_->connections.fetch_add(1, std::memory_order_relaxed);
    core_->ConnectionsChanged(+1);
  }
  registered_ = true;
  if (!core_->Register(shared_from_this())) {
    registered_ = false;  // never published: no other thread can see this session
  }
  net::post(strand_, [self = shared_from_this()] { self->DoStart(); });
}

void Session::BeginDrain() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->NoteDraining();
    if (self->stream_mode_) {
      self->CloseHard();
      return;
    }
    if (self->lingering_) return;
    // An idle keep-alive connection has nothing to finish.
    if (!self->parsing_ && !self->writing_ && self->base_seq_ == self->next_seq_) {
      self->CloseHard();
      return;
    }
    self->TryWrite();
    self->MaybeFinish();
    self->UpdateReadDeadline();
  });
}

void Session::ForceClose() {
  net::post(strand_, [self = shared_from_this()] { self->CloseHard(); });
}

void Session::Respond(std::uint64_t seq, Response response) {
  if (core_->stopped.load(std::memory_order_acquire)) {
    if (response.stream && response.stream->on_closed) response.stream->on_closed();
    return;
  }
  // Called synchronously from Handle (the fast path): no hop needed.
  if (strand_.running_in_this_thread()) {
    Resolve(seq, std::move(response));
    return;
  }
  net::post(strand_, [self = shared_from_this(), seq, r = std::move(response)]() mutable {
    self->Resolve(seq, std::move(r));
  });
}

void Session::Abandon(std::uint64_t seq) {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  // A responder destroyed uncalled is a handler bug; the connection cannot answer in order
  // any more, so it is closed.
  net::post(strand_, [self = shared_from_this(), seq] {
    if (!self->closed_ && seq >= self->base_seq_) self->CloseHard();
  });
}

void Session::PostStreamDrain() {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  net::post(strand_, [self = shared_from_this()] { self->StreamDrain(); });
}

void Session::PostLagged() {
  if (core_->stopped.load(std::memory_order_acquire)) return;
  net::post(strand_, [self = shared_from_this()] { self->OnLagged(); });
}

// ---- Reading ----

void Session::DoStart() {
  if (closed_) return;
  if (!registered_) {
    CloseHard();
    return;
  }
  error_code ec;
  const tcp::endpoint peer = socket_.remote_endpoint(ec);
  if (!ec) remote_ = peer.address().to_string() + ":" + std::to_string(peer.port());
  ArmTick();
  if (reject_) {
    if (core_->rejecting.load(std::memory_order_relaxed) > kMaxRejecting) {
      core_->Rejected("max_conns", 429);
      CloseHard();
      return;
    }
    Reject(429, "Busy", "too many connections", "max_conns");
    return;
  }
  ReadLoop();
}

void Session::ReadLoop() {
  for (;;) {
    if (closed_ || lingering_ || stream_mode_ || reading_) return;
    if (!parsing_) {
      if (no_new_requests_) {
        MaybeFinish();
        return;
      }
      // Resumed by OnWrite once responses drain.
      if (next_seq_ - base_seq_ >= kMaxPipeline) return;
      if (in_.size() == 0) {
        StartRead();
        return;
      }
      BeginRequest();
    } else if (need_more_) {
      StartRead();
      return;
    }
    FeedOnce();
  }
}

void Session::BeginRequest() {
  reader_.Reset();
  parsing_ = true;
  header_accepted_ = false;
  need_more_ = false;
  request_start_ = SteadyClock::now();
  request_deadline_ = request_start_ + core_->limits.read_timeout;
}

void Session::FeedOnce() {
  const RequestReader::Step step = reader_.Feed(in_.view());
  in_.Consume(step.consumed);
  switch (step.state) {
    case RequestReader::State::kNeedMore:
      need_more_ = true;
      break;
    case RequestReader::State::kHeaderDone:
      OnHeader();
      break;
    case RequestReader::State::kDone:
      OnRequestDone();
      break;
    case RequestReader::State::kError:
      OnParseError();
      break;
  }
}

void Session::OnHeader() {
  const ServerLimits& limits = core_->limits;
  bool acquired = false;
  if (listener_->admission) {
    // SPEC §7: over the caps, 429 at once, before the body is read. Writes are shed first:
    // they may take only half of the inflight slots and of the rate bucket (issue 7).
    const std::string& method = reader_.request().method;
    const bool write = method != "GET" && method != "HEAD";
    const auto cap = static_cast<std::int64_t>(write ? std::max<std::size_t>(1, limits.inflight / 2)
                                                     : limits.inflight);
    if (core_->inflight.fetch_add(1, std::memory_order_relaxed) >= cap) {
      core_->inflight.fetch_sub(1, std::memory_order_relaxed);
      Reject(429, "Busy", "too many requests in flight", "inflight");
      return;
    }
    acquired = true;
    if (core_->rate.enabled()) {
      const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              SteadyClock::now().time_since_epoch())
                              .count();
      if (!core_->rate.TryAcquire(now_ns, write)) {
        core_->inflight.fetch_sub(1, std::memory_order_relaxed);
        Reject(429, "Busy", "request rate over the limit", "rps");
        return;
      }
    }
  }
  const std::optional<std::uint64_t> length = reader_.content_length();
  if (length && *length > limits.max_body_bytes) {
    if (acquired) core_->inflight.fetch_sub(1, std::memory_order_relaxed);
    Reject(413, "PayloadTooLarge",
           "request body over " + std::to_string(limits.max_body_bytes) + " bytes",
           "body_too_large");
    return;
  }
  if (reader_.has_body() && reader_.has_content_encoding()) {
    if (acquired) core_->inflight.fetch_sub(1, std::memory_order_relaxed);
    Reject(415, "UnsupportedMediaType", "Content-Encoding other than identity is not supported",
           "content_encoding");
    return;
  }
  // Admitted: in flight until its response is written.
  core_->InflightChanged(+1);
  if (reader_.expects_continue() && reader_.has_body()) {
    Slot& interim = SlotAt(AllocSlot());
    interim.interim = true;
    interim.state = Slot::State::kReady;
  }
  current_seq_ = AllocSlot();
  Slot& slot = SlotAt(current_seq_);
  slot.counted = true;
  slot.keep_alive = reader_.keep_alive();
  slot.head_request = reader_.request().method == "HEAD";
  header_accepted_ = true;
  if (reader_.expects_continue()) TryWrite();
}

void Session::OnRequestDone() {
  parsing_ = false;
  header_accepted_ = false;
  need_more_ = false;
  const std::uint64_t seq = current_seq_;
  if (!SlotAt(seq).keep_alive) no_new_requests_ = true;
  Request& request = reader_.request();
  request.remote = remote_;
  request.received_at = request_start_;
  Responder responder(ResponderFn{std::make_shared<ResponderState>(shared_from_this(), seq)});
  in_handler_ = true;
  listener_->handler->Handle(std::move(request), std::move(responder));
  in_handler_ = false;
  TryWrite();
}

void Session::OnParseError() {
  switch (reader_.error()) {
    case ParseError::kHeaderTooLarge:
      // 431 is not in the API's error table: the header cap answers 400 Malformed.
      Reject(400, "Malformed", "header too large", "header_too_large");
      break;
    case ParseError::kBodyTooLarge:
      Reject(413, "PayloadTooLarge",
             "request body over " + std::to_string(core_->limits.max_body_bytes) + " bytes",
             "body_too_large");
      break;
    default:
      Reject(400, "Malformed", "malformed request: " + reader_.error_message(), "bad_request");
      break;
  }
}

void Session::Reject(int status, std::string_view code, std::string_view message,
                     std::string_view reason) {
  core_->Rejected(reason, status);
  const bool header = parsing_ && reader_.header_done();
  // Unread body bytes (or an unparsable stream) leave no way to find the next request; so
  // does a parse error found once the header was complete (a Transfer-Encoding that does not
  // end in chunked: the body's length is unknown).
  const bool close = !header || header_accepted_ || reader_.error() != ParseError::kNone ||
                     reader_.has_body() || !reader_.keep_alive();
  Request* request = nullptr;
  if (header) {
    request = &reader_.request();
    request->remote = remote_;
    request->received_at = request_start_;
  }
  Response response = core_->error_body(status, code, message, request);
  const std::uint64_t seq = header_accepted_ ? current_seq_ : AllocSlot();
  Slot& slot = SlotAt(seq);
  slot.force_close = close;
  slot.response = std::move(response);
  slot.state = Slot::State::kReady;
  parsing_ = false;
  header_accepted_ = false;
  need_more_ = false;
  if (close) no_new_requests_ = true;
  TryWrite();
}

void Session::StartRead() {
  reading_ = true;
  if (lingering_ || stream_mode_) in_.Clear();
  const net::mutable_buffer space = in_.Prepare(kMinReadSpace);
  UpdateReadDeadline();
  socket_.async_read_some(space, [self = shared_from_this()](const error_code& ec, std::size_t n) {
    self->OnRead(ec, n);
  });
}

void Session::OnRead(const error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (lingering_) {
    if (ec || SteadyClock::now() >= linger_deadline_) {
      CloseHard();
    } else {
      StartRead();
    }
    return;
  }
  if (stream_mode_) {
    // The client is not expected to send anything; reads only detect its departure.
    if (ec) {
      CloseHard();
    } else {
      StartRead();
    }
    return;
  }
  if (ec) {
    if (ec == net::error::eof && !parsing_) {
      // Half-close: answer what was asked, then close.
      read_eof_ = true;
      no_new_requests_ = true;
      TryWrite();
      MaybeFinish();
      UpdateReadDeadline();
      return;
    }
    CloseHard();
    return;
  }
  in_.Commit(n);
  need_more_ = false;
  if (no_new_requests_ && !parsing_) {
    in_.Clear();
    MaybeFinish();
    UpdateReadDeadline();
    return;
  }
  ReadLoop();
  UpdateReadDeadline();
}

void Session::UpdateReadDeadline() {
  if (!reading_ || lingering_ || stream_mode_ || closed_) {
    read_deadline_ = kNever;
    return;
  }
  if (parsing_) {
    // read_timeout bounds one whole request from its first byte (slow senders).
    read_deadline_ = request_deadline_;
    read_deadline_is_request_ = true;
    return;
  }
  read_deadline_is_request_ = false;
  // idle_timeout bounds the wait for the next request once nothing is pending.
  read_deadline_ =
      base_seq_ == next_seq_ ? SteadyClock::now() + core_->limits.idle_timeout : kNever;
}

// ---- Responses ----

std::uint64_t Session::AllocSlot() {
  REGISTRY_CHECK(next_seq_ - base_seq_ < kRing, "http: response ring overflow");
  const std::uint64_t seq = next_seq_++;
  SlotAt(seq).state = Slot::State::kWaiting;
  return seq;
}

void Session::Release(Slot& slot) {
  if (!slot.counted) return;
  slot.counted = false;
  if (listener_->admission) core_->inflight.fetch_sub(1, std::memory_order_relaxed);
  core_->InflightChanged(-1);
}

void Session::DropSlots() {
  for (std::uint64_t seq = base_seq_; seq < next_seq_; ++seq) {
    Slot& slot = SlotAt(seq);
    Release(slot);
    if (slot.state == Slot::State::kReady && slot.response.stream &&
        slot.response.stream->on_closed) {
      slot.response.stream->on_closed();
    }
    slot.Reset();
  }
  base_seq_ = next_seq_;
  header_accepted_ = false;
}

void Session::Resolve(std::uint64_t seq, Response response) {
  if (closed_ || lingering_ || stream_mode_ || seq < base_seq_) {
    // The connection went away first; a stream still learns that it ended.
    if (response.stream && response.stream->on_closed) response.stream->on_closed();
    return;
  }
  Slot& slot = SlotAt(seq);
  REGISTRY_CHECK(slot.state == Slot::State::kWaiting, "http: response for an unknown request");
  slot.response = std::move(response);
  slot.state = Slot::State::kReady;
  // In flight means admitted and not yet answered: the slot is freed here, not when the
  // write completes, so a client sending its next request as soon as it reads this answer
  // is never refused for the request it has already received.
  Release(slot);
  if (!in_handler_) TryWrite();
}

void Session::NoteDraining() {
  if (draining_) return;
  draining_ = true;
  no_new_requests_ = true;
  // A request whose header was not admitted yet is not in flight: drop it.
  if (parsing_ && !header_accepted_) parsing_ = false;
}

void Session::TryWrite() {
  if (writing_ || closed_ || lingering_ || stream_mode_) return;
  // Stop may have begun before this connection's drain notice arrived: the last pending
  // response then already says Connection: close.
  if (core_->draining()) NoteDraining();
  wbufs_.clear();
  write_bodies_.clear();
  std::size_t count = 0;
  bool close = false;
  for (std::uint64_t seq = base_seq_; seq < next_seq_ && count < kMaxWriteBatch; ++seq) {
    Slot& slot = SlotAt(seq);
    if (slot.state != Slot::State::kReady) break;
    if (slot.interim) {
      wbufs_.push_back(net::buffer(wire::kContinue));
      ++count;
      continue;
    }
    const bool stream = slot.response.stream.has_value();
    // A stream head goes out alone, after the responses before it.
    if (stream && count > 0) break;
    const bool last = seq + 1 == next_seq_ && no_new_requests_ && !parsing_;
    close = stream || slot.force_close || !slot.keep_alive || last ||
            wire::HasConnectionClose(slot.response.headers);
    const int status = slot.response.status;
    const std::shared_ptr<const std::string>& body = slot.response.body;
    const bool has_body =
        !stream && body != nullptr && !body->empty() && !wire::StatusHasNoBody(status);
    const bool send_body = has_body && !slot.head_request;
    wire::HeadParams params;
    params.keep_alive = !close;
    params.stream = stream;
    params.content_length = has_body ? body->size() : 0;
    params.retry_after_seconds = core_->limits.retry_after.count();
    slot.head.clear();
    wire::AppendResponseHead(status, slot.response.headers, params, slot.head);
    wbufs_.push_back(net::buffer(slot.head));
    if (send_body) {
      wbufs_.push_back(net::buffer(*body));
      write_bodies_.push_back(body);
    }
    ++count;
    if (close) break;
  }
  if (count == 0) {
    MaybeFinish();
    return;
  }
  write_count_ = count;
  write_closes_ = close;
  writing_ = true;
  write_deadline_ = SteadyClock::now() + core_->limits.write_timeout;
  net::async_write(
      socket_, std::span<const net::const_buffer>(wbufs_),
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->OnWrite(ec); });
}

void Session::OnWrite(const error_code& ec) {
  writing_ = false;
  write_deadline_ = kNever;
  write_bodies_.clear();
  if (closed_) return;
  if (ec) {
    CloseHard();
    return;
  }
  std::optional<Response::Stream> stream;
  for (std::size_t i = 0; i < write_count_; ++i) {
    Slot& slot = SlotAt(base_seq_);
    if (slot.response.stream) stream = std::move(slot.response.stream);
    Release(slot);
    slot.Reset();
    ++base_seq_;
  }
  if (stream) {
    EnterStream(std::move(*stream));
    return;
  }
  if (write_closes_) {
    GracefulClose();
    return;
  }
  TryWrite();
  ReadLoop();
  MaybeFinish();
  UpdateReadDeadline();
}

void Session::MaybeFinish() {
  if (closed_ || lingering_ || stream_mode_ || writing_) return;
  if (no_new_requests_ && !parsing_ && base_seq_ == next_seq_) GracefulClose();
}

// ---- Streaming ----

void Session::EnterStream(Response::Stream stream) {
  stream_mode_ = true;
  stream_.emplace(std::move(stream));
  if (draining_) {
    // Stop began while the head was written: end at once (on_closed, no on_open).
    CloseHard();
    return;
  }
  no_new_requests_ = true;
  parsing_ = false;
  need_more_ = false;
  // Requests pipelined behind a stream are never answered.
  DropSlots();
  in_.Clear();
  sink_ = std::make_shared<StreamSinkImpl>(weak_from_this(), stream_->queue_len,
                                           socket_.native_handle());
  last_write_ = SteadyClock::now();
  if (stream_->heartbeat.count() > 0) {
    const std::chrono::milliseconds tick =
        std::max(std::chrono::milliseconds(5), stream_->heartbeat / 4);
    if (tick < tick_) {
      tick_ = tick;
      ArmTick();  // replaces the pending, slower tick
    }
  }
  read_deadline_ = kNever;
  if (!reading_) StartRead();
  if (stream_->on_open) stream_->on_open(sink_);
}

void Session::StreamDrain() {
  if (closed_ || lingering_ || !stream_mode_ || writing_) return;
  bool close_now = false;
  stream_batch_.clear();
  sink_->Take(stream_batch_, kMaxStreamBatch, &close_now);
  if (stream_batch_.empty()) {
    // Stream input is always drained, so a plain close cannot reset unread data away.
    if (close_now) CloseHard();
    return;
  }
  wbufs_.clear();
  for (const auto& chunk : stream_batch_) wbufs_.push_back(net::buffer(*chunk));
  StartStreamWrite();
}

void Session::WriteHeartbeat() {
  if (!sink_->ClaimForHeartbeat()) return;
  wbufs_.clear();
  wbufs_.push_back(net::buffer(wire::kHeartbeat));
  StartStreamWrite();
}

void Session::StartStreamWrite() {
  writing_ = true;
  write_deadline_ = SteadyClock::now() + core_->limits.write_timeout;
  net::async_write(
      socket_, std::span<const net::const_buffer>(wbufs_),
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->OnStreamWrite(ec); });
}

void Session::OnStreamWrite(const error_code& ec) {
  writing_ = false;
  write_deadline_ = kNever;
  stream_batch_.clear();
  if (closed_) return;
  if (ec) {
    CloseHard();
    return;
  }
  last_write_ = SteadyClock::now();
  StreamDrain();
}

void Session::OnLagged() {
  if (closed_) return;
  if (stream_ && stream_->on_lagged) stream_->on_lagged();
  CloseHard();
}

// ---- Timers and closing ----

void Session::ArmTick() {
  timer_.expires_after(tick_);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->OnTick(ec); });
}

void Session::OnTick(const error_code& ec) {
  if (ec || closed_) return;
  const SteadyClock::time_point now = SteadyClock::now();
  if (lingering_) {
    if (now >= linger_deadline_) {
      CloseHard();
      return;
    }
  } else {
    if (now >= write_deadline_) {
      CloseHard();
      return;
    }
    if (now >= read_deadline_) {
      // Mid-request: nothing is answered, the connection is cut.
      if (read_deadline_is_request_) core_->Rejected("read_timeout", 408);
      CloseHard();
      return;
    }
    if (stream_mode_ && !writing_ && stream_->heartbeat.count() > 0 &&
        now - std::max(last_write_, sink_->last_direct_write()) >= stream_->heartbeat) {
      WriteHeartbeat();
    }
  }
  ArmTick();
}

void Session::GracefulClose() {
  if (closed_ || lingering_) return;
  lingering_ = true;
  DropSlots();
  parsing_ = false;
  read_deadline_ = kNever;
  write_deadline_ = kNever;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (read_eof_ || ec) {
    CloseHard();
    return;
  }
  // Drain what the peer still sends so that it reads our response instead of a reset.
  linger_deadline_ = SteadyClock::now() +
                     std::min<std::chrono::milliseconds>(core_->limits.read_timeout, kMaxLinger);
  if (!reading_) StartRead();
}

void Session::CloseHard() {
  if (closed_) return;
  closed_ = true;
  lingering_ = false;
  if (sink_) sink_->MarkClosed();  // before the descriptor can be reused
  error_code ec;
  socket_.close(ec);
  timer_.cancel();
  read_deadline_ = kNever;
  write_deadline_ = kNever;
  DropSlots();
  if (stream_mode_ && !stream_closed_notified_) {
    stream_closed_notified_ = true;
    if (stream_->on_closed) stream_->on_closed();
  }
  if (reject_) core_->rejecting.fetch_sub(1, std::memory_order_relaxed);
  if (counted_) {
    counted_ = false;
    listener_->connections.fetch_sub(1, std::memory_order_relaxed);
    core_->ConnectionsChanged(-1);
  }
  if (registered_) {
    registered_ = false;
    core_->Unregister(this);
  }
}

// ---- Core: session registry ----

Core::Core(const HttpServer::Options& options, int concurrency_hint)
    : ioc(concurrency_hint),
      limits(options.limits),
      observer(options.observer),
      error_body(options.error_body),
      tick(std::clamp(std::min({options.limits.read_timeout, options.limits.write_timeout,
                                options.limits.idle_timeout}) /
                          8,
                      std::chrono::milliseconds(5), std::chrono::milliseconds(500))),
      rate(options.limits.rps) {
  api.handler = options.api.handler;
  api.admission = options.api.admission;
  admin.handler = options.admin.handler;
  admin.admission = options.admin.admission;
}

bool Core::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_.load(std::memory_order_relaxed)) return false;
  sessions_.emplace(session.get(), session);
  return true;
}

void Core::Unregister(const Session* session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) cv_.notify_all();
}

void Core::BeginDrainAll() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_.store(true, std::memory_order_release);
    sessions.reserve(sessions_.size());
    for (const auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (const auto& s : sessions) s->BeginDrain();
}

void Core::CloseAll() {
  for (const auto& s : Snapshot()) s->ForceClose();
}

bool Core::WaitNoSessions(SteadyClock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [this] { return sessions_.empty(); });
}

std::vector<std::shared_ptr<Session>> Core::Snapshot() {
  std::vector<std::shared_ptr<Session>> sessions;
  std::lock_guard<std::mutex> lock(mu_);
  sessions.reserve(sessions_.size());
  for (const auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) sessions.push_back(std::move(s));
  }
  return sessions;
}

void StartSession(const std::shared_ptr<Core>& core, ListenerState* listener, Socket socket) {
  std::make_shared<Session>(core, listener, std::move(socket), /*reject=*/false)->Start();
}

void RejectConnection(const std::shared_ptr<Core>& core, ListenerState* listener, Socket socket) {
  std::make_shared<Session>(core, listener, std::move(socket), /*reject=*/true)->Start();
}

}  // namespace registry::http::internal
