// libFuzzer target: arbitrary bytes through the server's request parser
// (src/http/request_reader.h), exactly as a connection feeds it: the input is cut into
// reads of varying sizes (chosen by the first input byte), requests are pipelined one after
// another, and the header/body limits are the production defaults scaled down so that the
// caps are reached often. The parser must never crash, never consume more than it was
// given, always make progress or ask for more, and keep a finished request within limits.
//
// Not wired into CMake. Build by hand with clang, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/http \
//     fuzz/http_request_fuzz.cc src/http/request_reader.cc src/http/wire.cc \
//     src/http/message.cc src/util/*.cc -o http_request_fuzz
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "registry/http/message.h"
#include "request_reader.h"

namespace {

using registry::http::internal::ParseLimits;
using registry::http::internal::RequestReader;
using State = RequestReader::State;

constexpr ParseLimits kLimits{/*max_header_bytes=*/2048, /*max_body_bytes=*/4096};

void Require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: size of each simulated read (1..256 bytes).
  const std::size_t read_size = static_cast<std::size_t>(data[0]) + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  RequestReader reader(kLimits);
  std::string buffer;  // received but not consumed, as in the connection's buffer
  std::size_t offset = 0;
  bool in_message = false;
  bool need_more = true;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    if (need_more) {
      if (offset == input.size()) break;
      const std::size_t n = std::min(read_size, input.size() - offset);
      buffer.append(input.substr(offset, n));
      offset += n;
      need_more = false;
    }
    if (!in_message) {
      if (buffer.empty()) {
        need_more = true;
        continue;
      }
      reader.Reset();
      in_message = true;
    }
    const RequestReader::Step step = reader.Feed(buffer);
    Require(step.consumed <= buffer.size());
    buffer.erase(0, step.consumed);
    switch (step.state) {
      case State::kNeedMore:
        need_more = true;
        break;
      case State::kHeaderDone:
        // The facts the server decides on must be readable right after the header.
        (void)reader.keep_alive();
        (void)reader.has_body();
        (void)reader.content_length();
        (void)reader.chunked();
        (void)reader.expects_continue();
        (void)reader.has_content_encoding();
        break;
      case State::kDone: {
        const registry::http::Request& req = reader.request();
        Require(req.body.size() <= kLimits.max_body_bytes);
        Require(req.path.size() <= req.target.size());
        for (const auto& [name, value] : req.headers) {
          for (char c : name) Require(!(c >= 'A' && c <= 'Z'));
        }
        in_message = false;
        break;
      }
      case State::kError:
        // The server answers and closes: nothing after an error is parsed.
        Require(!reader.error_message().empty());
        return 0;
    }
  }
  return 0;
}
