// The state migration point's client (engine/src/smp/smp_http, smp_sink,
// smp_source, smp_client): against HttpStub where the server must
// misbehave on cue (error mapping, retries, resumed uploads, lost answers),
// and against the real `migstore serve` on a loopback port: an upload of
// 20 MiB read back, an upload that survives the server being killed (-9)
// and restarted, the four task-sequence steps end to end, and the
// administration calls. The real-server tests skip, saying why, when this
// build's migstore has no `serve`.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/base/deterministic_random.h"
#include "engine/src/smp/smp_http.h"
#include "engine/src/smp/smp_sink.h"
#include "engine/src/smp/smp_source.h"
#include "migstore/exit_codes.h"
#include "migstore/smp.h"
#include "tests/util/http_stub.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using nlohmann::json;
using smp::SmpHttp;
using smp::SmpHttpOptions;
using smp::SmpSink;
using smp::SmpSinkOptions;
using smp::SmpSource;
using testing::HttpReply;
using testing::HttpRequestRecord;
using testing::HttpStub;
using testing::Sha256Hex;
using testing::TempDir;
using testing::WriteFile;

constexpr char kToken[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90secret-token";
constexpr char kId[] = "0123456789abcdef0123456789abcdef";

// Quick retries: the tests wait milliseconds, not seconds.
SmpHttpOptions FastOptions(const std::string& server) {
  SmpHttpOptions o;
  o.server = server;
  o.token = kToken;
  o.retry.max_attempts = 3;
  o.retry.base_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  return o;
}

HttpReply JsonReply(int status, const json& body) {
  HttpReply r;
  r.status = status;
  r.headers = {"Content-Type: application/json"};
  r.body = body.dump();
  return r;
}

HttpReply ErrorReply(int status, const std::string& kind,
                     const std::string& message) {
  return JsonReply(status, json{{"error", message}, {"kind", kind}});
}

// --- Connect and token files -----------------------------------------------

TEST(SmpConnect, TakesHttpsAnywhereAndHttpOnlyOnLoopback) {
  auto connect = [](const std::string& server) {
    SmpConnection c;
    c.server = server;
    c.token = kToken;
    return SmpClient::Connect(c).status();
  };
  EXPECT_OK(connect("https://smp.example.org"));
  EXPECT_OK(connect("https://smp.example.org:8443/"));
  EXPECT_OK(connect("http://127.0.0.1:8080"));
  EXPECT_OK(connect("http://127.3.2.1:8080"));
  EXPECT_OK(connect("http://localhost:8080"));
  EXPECT_OK(connect("http://[::1]:8080"));
  EXPECT_OK(connect("https://[2001:db8::1]:8443"));
  for (const char* bad :
       {"http://smp.example.org:8080", "http://10.0.0.1", "http://[::2]:80",
        "ftp://127.0.0.1", "smp.example.org", "https://", "https://h:0",
        "https://h:99999", "https://h:80x", "https://h/prefix", "https://h?x=1",
        "http://128.0.0.1", ""}) {
    Status s = connect(bad);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad << ": " << s.ToString();
  }
  // Credentials in the address are refused without being repeated.
  Status s = connect("https://user:hunter2@smp.example.org");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_FALSE(testing::Has(s.ToString(), "hunter2")) << s.ToString();

  SmpConnection c;
  c.server = "https://smp.example.org";
  EXPECT_TRUE(SmpClient::Connect(c).status().IsInvalidArgument());
  c.token = "two words";
  s = SmpClient::Connect(c).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_FALSE(testing::Has(s.ToString(), "words")) << s.ToString();
  c.token = kToken;
  c.retry_count = -1;
  EXPECT_TRUE(SmpClient::Connect(c).status().IsInvalidArgument());
  c.retry_count = 3;
  c.ca_file = "/no/such/ca.pem";
  EXPECT_TRUE(SmpClient::Connect(c).status().IsInvalidArgument());
  c.server = "http://127.0.0.1:1";
  c.ca_file = "/etc/hostname";
  EXPECT_TRUE(SmpClient::Connect(c).status().IsInvalidArgument());
}

TEST(SmpTokenFile, FirstLineWithAWarningWhenOthersMayReadIt) {
  TempDir dir;
  const std::string path = dir / "pc.token";
  WriteFile(path, "  abc123  \r\nsecond line\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  std::string warning = "stale";
  auto token = ReadSmpTokenFile(path, &warning);
  ASSERT_OK(token);
  EXPECT_EQ(*token, "abc123");
  EXPECT_EQ(warning, "");

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  token = ReadSmpTokenFile(path, &warning);
  ASSERT_OK(token);
  EXPECT_TRUE(
      testing::Has(warning, "permissions 0644 for '" + path + "' are too open"))
      << warning;
  EXPECT_TRUE(testing::Has(warning, "token file")) << warning;

  WriteFile(path, "\nabc\n");
  EXPECT_TRUE(ReadSmpTokenFile(path).status().IsKeyUnreadable());
  WriteFile(path, "");
  EXPECT_TRUE(ReadSmpTokenFile(path).status().IsKeyUnreadable());
  EXPECT_TRUE(
      ReadSmpTokenFile(dir / "missing.token").status().IsKeyUnreadable());
  EXPECT_EQ(ExitCodeFor(ReadSmpTokenFile(path).status()),
            ExitCode::kKeyUnreadable);
}

// --- errors and retries ----------------------------------------------------

TEST(SmpHttpErrors, MapToStatusAndExitCodeAsTheProtocolSays) {
  struct Case {
    int http;
    const char* kind;
    bool (Status::*is)() const;
    ExitCode exit;
  };
  const Case cases[] = {
      {400, "InvalidArgument", &Status::IsInvalidArgument,
       ExitCode::kInvalidArguments},
      {401, "Refused", &Status::IsRefused, ExitCode::kInvalidStore},
      {403, "Refused", &Status::IsRefused, ExitCode::kInvalidStore},
      {404, "NotFound", &Status::IsNotFound, ExitCode::kInvalidStore},
      {409, "Refused", &Status::IsRefused, ExitCode::kInvalidStore},
      {409, "AlreadyExists", &Status::IsAlreadyExists, ExitCode::kInvalidStore},
      {422, "Corruption", &Status::IsCorruption, ExitCode::kCorruptedStore},
      {503, "Unavailable", &Status::IsUnavailable, ExitCode::kInvalidStore},
      {500, "IOError", &Status::IsIOError, ExitCode::kFatal},
      {502, "", &Status::IsUnavailable, ExitCode::kInvalidStore},
  };
  for (const Case& c : cases) {
    HttpStub stub([&](const HttpRequestRecord&, int) {
      return ErrorReply(c.http, c.kind, "the server's own words");
    });
    SmpHttp http(FastOptions(stub.url()));
    Result<json> r = http.Call("POST", "/v1/capture", json::object());
    ASSERT_FALSE(r.ok()) << c.http;
    const Status s = r.status();
    EXPECT_TRUE((s.*c.is)()) << c.http << ": " << s.ToString();
    EXPECT_EQ(ExitCodeFor(s), c.exit) << c.http << ": " << s.ToString();
    EXPECT_TRUE(testing::Has(s.ToString(), "the server's own words"))
        << s.ToString();
    EXPECT_TRUE(testing::Has(s.ToString(), "/v1/capture")) << s.ToString();
    EXPECT_FALSE(testing::Has(s.ToString(), kToken)) << s.ToString();
    // 500 and 502 are tried again (three attempts here); the rest once.
    EXPECT_EQ(stub.request_count(), c.http == 500 || c.http == 502 ? 3 : 1)
        << c.http;
    EXPECT_EQ(stub.requests()[0].Header("Authorization"),
              std::string("Bearer ") + kToken);
  }
}

TEST(SmpHttpErrors, AServerThatFailsTwiceIsAskedAgain) {
  HttpStub stub([](const HttpRequestRecord&, int i) {
    return i < 2 ? ErrorReply(500, "IOError", "disk hiccup")
                 : JsonReply(200, json{{"name", "pc-old"}, {"admin", false}});
  });
  SmpHttp http(FastOptions(stub.url()));
  auto r = http.Call("GET", "/v1/whoami");
  ASSERT_OK(r);
  EXPECT_EQ((*r)["name"], "pc-old");
  EXPECT_EQ(stub.request_count(), 3);
}

TEST(SmpHttpErrors, AServerThatCannotBeReachedIsUnavailable) {
  SmpHttp http(FastOptions("http://127.0.0.1:" +
                           std::to_string(testing::UnusedLoopbackPort())));
  Status s = http.Call("GET", "/v1/whoami").status();
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_TRUE(testing::Has(s.ToString(), "after 3 attempts")) << s.ToString();
  EXPECT_FALSE(testing::Has(s.ToString(), kToken)) << s.ToString();
}

TEST(SmpClientSteps, ABusyServerIsAskedRetryCountTimesMoreThenUnavailable) {
  HttpStub stub([](const HttpRequestRecord&, int) {
    HttpReply r = ErrorReply(503, "Unavailable", "no storage has room");
    r.headers.push_back("Retry-After: 30");
    return r;
  });
  SmpConnection c;
  c.server = stub.url();
  c.token = kToken;
  c.retry_count = 2;
  c.retry_delay_seconds = 0;
  auto client = SmpClient::Connect(c);
  ASSERT_OK(client);
  CaptureOptions o;
  auto report = client->Capture(o);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(report.status().IsUnavailable()) << report.status().ToString();
  EXPECT_EQ(ExitCodeFor(report.status()), ExitCode::kInvalidStore);
  EXPECT_TRUE(testing::Has(report.status().ToString(), "no storage has room"));
  EXPECT_EQ(stub.request_count(), 3);
}

TEST(SmpClientSteps, ARefusalIsNotAskedAgain) {
  HttpStub stub([](const HttpRequestRecord&, int) {
    return ErrorReply(409, "Refused", "the server is in restore-only mode");
  });
  SmpConnection c;
  c.server = stub.url();
  c.token = kToken;
  c.retry_delay_seconds = 0;
  auto client = SmpClient::Connect(c);
  ASSERT_OK(client);
  auto report = client->Capture(CaptureOptions());
  EXPECT_TRUE(report.status().IsRefused()) << report.status().ToString();
  EXPECT_EQ(stub.request_count(), 1);
}

// --- uploads against a fake server -----------------------------------------

// The upload and read half of the protocol for one store, in memory, with
// faults on cue.
class FakeSmp {
 public:
  enum class Fault {
    kNone,
    kFailBeforeStoring,  // 500, nothing kept
    kFailAfterStoring,   // bytes kept, 500 answered (the answer is "lost")
    kKeepHalf,           // half the body kept, then 500
    kForget,             // the server lost everything: received 0, 500
    kFailThenBusy,       // 500, nothing kept, and the next GET upload is 503
  };
  using FaultFor = std::function<Fault(int put)>;

  // `fault`: which fault PUT number n (0, 1, ...) meets. `previous_partial`:
  // GET upload's count before any PUT (a previous run's partial).
  explicit FakeSmp(FaultFor fault = nullptr, uint64_t previous_partial = 0)
      : fault_(fault ? std::move(fault) : [](int) { return Fault::kNone; }),
        previous_partial_(previous_partial),
        stub_([this](const HttpRequestRecord& r, int) { return Handle(r); }) {}

  std::string url() const { return stub_.url(); }
  std::string bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return data_;
  }
  int puts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return puts_;
  }
  std::vector<std::string> ranges() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ranges_;
  }
  void set_data(std::string data) {
    std::lock_guard<std::mutex> lock(mu_);
    data_ = std::move(data);
    any_put_ = true;
  }

 private:
  uint64_t Received() const {
    return any_put_ ? data_.size() : previous_partial_;
  }

  HttpReply Handle(const HttpRequestRecord& r) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string base = std::string("/v1/stores/") + kId;
    if (r.Header("Authorization") != std::string("Bearer ") + kToken)
      return ErrorReply(401, "Refused", "no such token");
    if (r.method == "PUT" && r.target == base + "/upload") {
      const std::string range = r.Header("Content-Range");
      ranges_.push_back(range);
      unsigned long long a = 0, b = 0;
      if (std::sscanf(range.c_str(), "bytes %llu-%llu/*", &a, &b) != 2 ||
          b - a + 1 != r.body.size()) {
        return ErrorReply(400, "InvalidArgument", "bad Content-Range");
      }
      const Fault f = fault_(puts_++);
      if (a != 0 && a != Received()) {
        return JsonReply(416, json{{"error", "not where the bytes end"},
                                   {"kind", "InvalidArgument"},
                                   {"received", Received()}});
      }
      if (f == Fault::kFailBeforeStoring)
        return ErrorReply(500, "IOError", "fault");
      if (f == Fault::kFailThenBusy) {
        busy_gets_ = 1;
        return ErrorReply(500, "IOError", "fault");
      }
      if (a == 0) data_.clear();
      any_put_ = true;
      if (f == Fault::kKeepHalf) {
        data_ += r.body.substr(0, r.body.size() / 2);
        return ErrorReply(500, "IOError", "fault");
      }
      if (f == Fault::kForget) {
        data_.clear();
        return ErrorReply(500, "IOError", "fault");
      }
      data_ += r.body;
      if (f == Fault::kFailAfterStoring)
        return ErrorReply(500, "IOError", "fault");
      return JsonReply(200, json{{"received", data_.size()}});
    }
    if (r.method == "GET" && r.target == base + "/upload") {
      if (busy_gets_ > 0) {
        --busy_gets_;
        return ErrorReply(503, "Unavailable", "restarting");
      }
      return JsonReply(
          200, json{{"store", Store("capturing")}, {"received", Received()}});
    }
    if (r.method == "POST" && r.target == base + "/commit") {
      json b = json::parse(r.body, nullptr, false);
      if (!b.is_object() || b.value("size", uint64_t{0}) != data_.size() ||
          b.value("sha256", std::string()) != Sha256Hex(data_)) {
        return ErrorReply(422, "Corruption",
                          "the bytes received are not the ones committed");
      }
      return JsonReply(200, json{{"store", Store("captured")}});
    }
    if ((r.method == "HEAD" || r.method == "GET") &&
        r.target == base + "/data") {
      HttpReply reply;
      const std::string range = r.Header("Range");
      unsigned long long a = 0, b = 0;
      if (r.method == "GET" &&
          std::sscanf(range.c_str(), "bytes=%llu-%llu", &a, &b) == 2) {
        reply.status = 206;
        // A short store: a range past the end is cut, as a real server
        // that lost the store's tail would.
        reply.body = a < data_.size() ? data_.substr(a, b - a + 1) : "";
      } else {
        reply.body = data_;
      }
      return reply;
    }
    return ErrorReply(404, "NotFound", "no such path " + r.target);
  }

  json Store(const std::string& state) const {
    return json{{"id", kId}, {"state", state}, {"size", data_.size()}};
  }

  const FaultFor fault_;
  const uint64_t previous_partial_;
  mutable std::mutex mu_;
  std::string data_;  // guarded by mu_, as the four below
  bool any_put_ = false;
  int puts_ = 0;
  int busy_gets_ = 0;  // GETs of the upload still to answer 503
  std::vector<std::string> ranges_;
  HttpStub stub_;  // last: stopped before the members it reads
};

struct Upload {
  std::shared_ptr<SmpHttp> http;
  std::unique_ptr<SmpSink> sink;
};

Upload StartUpload(const FakeSmp& fake, size_t chunk = 64 * 1024) {
  Upload u;
  u.http = std::make_shared<SmpHttp>(FastOptions(fake.url()));
  SmpSinkOptions o;
  o.chunk_size = chunk;
  auto sink = SmpSink::Create(u.http, kId, fake.url() + "/v1/stores/" + kId, o);
  EXPECT_TRUE(sink.ok()) << sink.status().ToString();
  if (sink.ok()) u.sink = std::move(sink).value();
  return u;
}

// `data` appended in uneven pieces.
Status AppendAll(SmpSink* sink, const std::string& data) {
  DeterministicRandom rnd(9);
  size_t at = 0;
  while (at < data.size()) {
    const size_t n = std::min<size_t>(data.size() - at, 1 + rnd.Below(50000));
    MIGSTORE_RETURN_IF_ERROR(
        sink->Append(std::string_view(data).substr(at, n)));
    at += n;
  }
  return Status::OK();
}

TEST(SmpSinkFake, ChunksGoOutInOrderWithTheirRangesAndCommitCarriesTheHash) {
  FakeSmp fake;
  const std::string data = DeterministicRandom(1).Bytes(300000);
  Upload u = StartUpload(fake);
  ASSERT_OK(AppendAll(u.sink.get(), data));
  EXPECT_EQ(u.sink->size(), data.size());
  ASSERT_OK(u.sink->Commit());
  EXPECT_EQ(fake.bytes(), data);
  EXPECT_EQ(u.sink->committed_store()["state"], "captured");
  EXPECT_EQ(u.sink->acknowledged(), data.size());
  EXPECT_EQ(u.sink->resumes(), 0u);
  const std::vector<std::string> want = {
      "bytes 0-65535/*", "bytes 65536-131071/*", "bytes 131072-196607/*",
      "bytes 196608-262143/*", "bytes 262144-299999/*"};
  EXPECT_EQ(fake.ranges(), want);
  // The filling chunk and at most two handed over.
  EXPECT_LE(u.sink->peak_buffered_bytes(), 3u * 64 * 1024);
  // Committed: further calls are refused, Abandon does nothing.
  EXPECT_TRUE(u.sink->Append("x").IsInvalidArgument());
  u.sink->Abandon();
}

TEST(SmpSinkFake, AFailedPutResumesWhereTheServerSaysItsBytesEnd) {
  for (FakeSmp::Fault f :
       {FakeSmp::Fault::kFailBeforeStoring, FakeSmp::Fault::kFailAfterStoring,
        FakeSmp::Fault::kKeepHalf}) {
    FakeSmp fake([f](int put) {
      return put == 2 || put == 5 ? f : FakeSmp::Fault::kNone;
    });
    const std::string data = DeterministicRandom(2).Bytes(400000);
    Upload u = StartUpload(fake);
    ASSERT_OK(AppendAll(u.sink.get(), data));
    Status committed = u.sink->Commit();
    ASSERT_TRUE(committed.ok())
        << static_cast<int>(f) << ": " << committed.ToString();
    EXPECT_EQ(fake.bytes(), data) << static_cast<int>(f);
    EXPECT_EQ(u.sink->resumes(), 2u);
    const std::vector<std::string> ranges = fake.ranges();
    if (f == FakeSmp::Fault::kFailAfterStoring) {
      // The server had the chunk: nothing is sent twice.
      EXPECT_EQ(ranges.size(), 7u);
    } else if (f == FakeSmp::Fault::kKeepHalf) {
      // The chunk's second half only.
      EXPECT_EQ(ranges[3], "bytes 163840-196607/*");
    } else {
      EXPECT_EQ(ranges[3], ranges[2]);
    }
  }
}

TEST(SmpSinkFake, APutAnsweredAfterTheServerWasUnreachableIsAResume) {
  // The server fails a PUT, is still away when asked where it stands, and
  // takes the retried PUT: the upload went on after an interruption.
  FakeSmp fake([](int put) {
    return put == 1 ? FakeSmp::Fault::kFailThenBusy : FakeSmp::Fault::kNone;
  });
  const std::string data = DeterministicRandom(6).Bytes(200000);
  Upload u = StartUpload(fake);
  ASSERT_OK(AppendAll(u.sink.get(), data));
  ASSERT_OK(u.sink->Commit());
  EXPECT_EQ(fake.bytes(), data);
  EXPECT_EQ(u.sink->resumes(), 1u);
  const std::vector<std::string> ranges = fake.ranges();
  ASSERT_EQ(ranges.size(), 5u);
  EXPECT_EQ(ranges[2], ranges[1]);
}

TEST(SmpSinkFake, A416SaysWhereToGoOn) {
  FakeSmp fake;
  const std::string data = DeterministicRandom(3).Bytes(200000);
  // The server already holds the first 100000 bytes of this very stream
  // (as if a PUT's answer was lost and another client process went on).
  Upload u = StartUpload(fake);
  ASSERT_OK(u.sink->Append(std::string_view(data).substr(0, 65536)));
  ASSERT_OK(u.sink->Append(std::string_view(data).substr(65536, 1)));
  // Wait for the first chunk's acknowledgment, then move the server on.
  for (int i = 0; i < 2000 && u.sink->acknowledged() < 65536; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(u.sink->acknowledged(), 65536u);
  fake.set_data(data.substr(0, 100000));
  ASSERT_OK(u.sink->Append(std::string_view(data).substr(65537)));
  ASSERT_OK(u.sink->Commit());
  EXPECT_EQ(fake.bytes(), data);
  const std::vector<std::string> ranges = fake.ranges();
  ASSERT_EQ(ranges.size(), 5u);
  EXPECT_EQ(ranges[1], "bytes 65536-131071/*");  // 416: the server is at 100000
  EXPECT_EQ(ranges[2], "bytes 100000-131071/*");
  EXPECT_EQ(ranges[3], "bytes 131072-196607/*");
  EXPECT_EQ(ranges[4], "bytes 196608-199999/*");
}

TEST(SmpSinkFake, APreviousRunsPartialIsNotResumedButStartedOver) {
  // The server holds 1000 bytes from a capture that failed earlier.
  FakeSmp fake(
      [](int put) {
        return put == 0 ? FakeSmp::Fault::kFailBeforeStoring
                        : FakeSmp::Fault::kNone;
      },
      1000);
  const std::string data = DeterministicRandom(4).Bytes(100000);
  Upload u = StartUpload(fake);
  ASSERT_OK(AppendAll(u.sink.get(), data));
  ASSERT_OK(u.sink->Commit());
  EXPECT_EQ(fake.bytes(), data);
  EXPECT_EQ(fake.ranges()[1], "bytes 0-65535/*");
}

TEST(SmpSinkFake, AServerThatLostAcknowledgedBytesFailsTheUpload) {
  FakeSmp fake([](int put) {
    return put == 3 ? FakeSmp::Fault::kForget : FakeSmp::Fault::kNone;
  });
  const std::string data = DeterministicRandom(5).Bytes(400000);
  Upload u = StartUpload(fake);
  Status s = AppendAll(u.sink.get(), data);
  if (s.ok()) s = u.sink->Commit();
  ASSERT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_TRUE(testing::Has(s.ToString(), "cannot resume")) << s.ToString();
  // Sticky.
  EXPECT_FALSE(u.sink->Append("x").ok());
}

TEST(SmpSinkFake, AServerThatKeepsFailingFailsTheUploadInTheEnd) {
  FakeSmp fake([](int put) {
    return put >= 1 ? FakeSmp::Fault::kFailBeforeStoring
                    : FakeSmp::Fault::kNone;
  });
  const std::string data = DeterministicRandom(6).Bytes(300000);
  Upload u = StartUpload(fake);
  Status s = AppendAll(u.sink.get(), data);
  if (s.ok()) s = u.sink->Commit();
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(ExitCodeFor(s), ExitCode::kFatal);
  // The first PUT, then the second and its six resumes.
  EXPECT_EQ(fake.puts(), 8);
}

TEST(SmpSinkFake, ACommitWhoseBytesDifferIsCorruption) {
  FakeSmp fake;
  const std::string data = DeterministicRandom(7).Bytes(100000);
  Upload u = StartUpload(fake);
  ASSERT_OK(AppendAll(u.sink.get(), data));
  // Waits for both chunks to arrive, then damages what the server holds.
  for (int i = 0; i < 2000 && u.sink->acknowledged() < 65536; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::string damaged = data.substr(0, 65536);
  damaged[100] ^= 1;
  fake.set_data(damaged);
  Status s = u.sink->Commit();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(ExitCodeFor(s), ExitCode::kCorruptedStore);
}

TEST(SmpSinkFake, AbandonStopsWithoutCommitting) {
  FakeSmp fake;
  Upload u = StartUpload(fake);
  ASSERT_OK(u.sink->Append(DeterministicRandom(8).Bytes(200000)));
  u.sink->Abandon();
  u.sink->Abandon();
  EXPECT_FALSE(u.sink->Commit().ok());
  EXPECT_FALSE(u.sink->Append("x").ok());
}

TEST(SmpSourceFake, ReadsExactRangesAndCallsAShortAnswerCorruption) {
  FakeSmp fake;
  const std::string data = DeterministicRandom(10).Bytes(100000);
  fake.set_data(data);
  auto http = std::make_shared<SmpHttp>(FastOptions(fake.url()));
  auto source = SmpSource::Open(http, kId, "the store");
  ASSERT_OK(source);
  EXPECT_EQ((*source)->size(), data.size());
  EXPECT_EQ((*source)->parallel_reads(), 8);
  std::string buf(5000, '\0');
  ASSERT_OK((*source)->ReadAt(12345, buf.size(), buf.data()));
  EXPECT_EQ(buf, data.substr(12345, 5000));
  EXPECT_EQ((*source)->bytes_read(), 5000u);
  EXPECT_TRUE(
      (*source)->ReadAt(data.size() - 10, 11, buf.data()).IsCorruption());
  // The server's store is shorter than its size said.
  fake.set_data(data.substr(0, 50000));
  Status s = (*source)->ReadAt(49000, 2000, buf.data());
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_TRUE(
      SmpSource::Open(http, "0123456789abcdef0123456789abcdee", "another")
          .status()
          .IsNotFound());
  EXPECT_TRUE(
      SmpSource::Open(http, "../etc", "x").status().IsInvalidArgument());
}

// --- the real server -------------------------------------------------------

// `migstore serve` on a loopback port, its data and storage in a temporary
// folder; its stderr goes to serve.log there, shown when it fails to start.
class ServeProcess {
 public:
  static std::unique_ptr<ServeProcess> Start(std::string* why_not) {
    testing::RunResult help = testing::RunMigstore({"serve", "--help"});
    // Help exits 1 (ExitCode::kHelp); a build without `serve` says the
    // argument was not expected.
    if (!testing::Has(help.out + help.err, "--listen")) {
      *why_not = "this build's migstore has no `serve` (exit " +
                 std::to_string(help.exit_code) + ")";
      return nullptr;
    }
    std::unique_ptr<ServeProcess> p(new ServeProcess());
    std::filesystem::create_directories(p->dir_ / "data");
    std::filesystem::create_directories(p->dir_ / "storage");
    ::chmod((p->dir_ / "data").c_str(), 0700);
    p->port_ = testing::UnusedLoopbackPort();
    if (!p->Launch(why_not)) return nullptr;
    return p;
  }
  ~ServeProcess() { Kill(); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  std::string admin_token() const {
    std::string t = testing::ReadFile(dir_ / "data/admin.token");
    return t.substr(0, t.find_first_of("\r\n"));
  }
  std::string log() const { return testing::ReadFile(dir_ / "serve.log"); }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // Started again on the same port, data and storage.
  bool Restart(std::string* why_not) {
    Kill();
    return Launch(why_not);
  }

 private:
  ServeProcess() = default;

  bool Launch(std::string* why_not) {
    const std::string log = dir_ / "serve.log";
    std::vector<std::string> args = {
        MIGSTORE_CLI_PATH, "serve",
        "--listen",        "127.0.0.1:" + std::to_string(port_),
        "--data",          dir_ / "data",
        "--storage",       dir_ / "storage"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_RDWR);
      int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(null, 0);
      ::dup2(err, 1);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(122);
    }
    // Up when the administrator's token works.
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        *why_not = "migstore serve exited at once:\n" + this->log();
        return false;
      }
      if (std::filesystem::exists(dir_ / "data/admin.token")) {
        SmpHttpOptions o = FastOptions(url());
        o.token = admin_token();
        o.retry.max_attempts = 1;
        if (!o.token.empty() && SmpHttp(o).Call("GET", "/v1/whoami").ok())
          return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    *why_not = "migstore serve did not answer in 30 s:\n" + this->log();
    Kill();
    return false;
  }

  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class SmpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    server_ = ServeProcess::Start(&why_not);
    if (server_ == nullptr) {
      // A build without `serve` skips; one whose server does not start
      // fails, with the server's own words.
      if (testing::Has(why_not, "has no `serve`")) GTEST_SKIP() << why_not;
      FAIL() << why_not;
    }
    admin_ = Client(server_->admin_token());
    ASSERT_NE(admin_, nullptr);
    auto old_token = admin_->Enroll("pc-old");
    ASSERT_OK(old_token);
    old_token_ = *old_token;
    auto new_token = admin_->Enroll("pc-new");
    ASSERT_OK(new_token);
    new_token_ = *new_token;
  }

  std::unique_ptr<SmpClient> Client(const std::string& token) {
    SmpConnection c;
    c.server = server_->url();
    c.token = token;
    c.retry_delay_seconds = 0;
    auto client = SmpClient::Connect(c);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return nullptr;
    return std::make_unique<SmpClient>(std::move(client).value());
  }

  std::shared_ptr<SmpHttp> Http(const std::string& token) {
    SmpHttpOptions o;
    o.server = server_->url();
    o.token = token;
    return std::make_shared<SmpHttp>(o);
  }

  // pc-old's store, requested for capture: its id.
  std::string RequestCapture(SmpHttp* http) {
    auto grant = http->Call("POST", "/v1/capture", json::object());
    EXPECT_TRUE(grant.ok()) << grant.status().ToString() << "\n"
                            << server_->log();
    if (!grant.ok()) return "";
    return (*grant)["store"].value("id", std::string());
  }

  static void ExpectReadsBack(std::shared_ptr<SmpHttp> http,
                              const std::string& id, const std::string& data) {
    auto source = SmpSource::Open(std::move(http), id, "the store");
    ASSERT_OK(source);
    ASSERT_EQ((*source)->size(), data.size());
    // From several threads at once, in reads of every size.
    std::vector<std::thread> threads;
    std::atomic<int> bad{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        DeterministicRandom rnd(100 + t);
        std::string buf;
        for (uint64_t at = static_cast<uint64_t>(t) * 997; at < data.size();) {
          const size_t n = static_cast<size_t>(
              std::min<uint64_t>(data.size() - at, 1 + rnd.Below(3 << 20)));
          buf.resize(n);
          Status s = (*source)->ReadAt(at, n, buf.data());
          if (!s.ok() ||
              std::string_view(buf) != std::string_view(data).substr(at, n)) {
            ++bad;
            break;
          }
          at += n;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(bad.load(), 0);
    char c;
    EXPECT_TRUE((*source)->ReadAt(data.size(), 1, &c).IsCorruption());
  }

  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<SmpClient> admin_;
  std::string old_token_;
  std::string new_token_;
};

TEST_F(SmpServerTest, TwentyMebibytesUploadedCommittedAndReadBack) {
  ASSERT_OK(admin_->Associate("pc-old", "pc-new", {}));
  auto http = Http(old_token_);
  const std::string id = RequestCapture(http.get());
  ASSERT_TRUE(smp::IsStoreId(id)) << id;
  const std::string data = DeterministicRandom(20).Bytes(20 << 20);
  auto sink = SmpSink::Create(http, id, server_->url() + "/v1/stores/" + id);
  ASSERT_OK(sink);
  ASSERT_OK(AppendAll(sink->get(), data));
  Status committed = (*sink)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.ToString() << "\n" << server_->log();
  const json& st = (*sink)->committed_store();
  EXPECT_EQ(st.value("state", ""), "captured");
  EXPECT_EQ(st.value("size", uint64_t{0}), data.size());
  EXPECT_EQ(st.value("sha256", ""), Sha256Hex(data));
  EXPECT_EQ((*sink)->resumes(), 0u);
  ExpectReadsBack(http, id, data);
}

TEST_F(SmpServerTest, AnUploadGoesOnAfterTheServerIsKilledAndRestarted) {
  ASSERT_OK(admin_->Associate("pc-old", "pc-new", {}));
  auto http = Http(old_token_);
  const std::string id = RequestCapture(http.get());
  ASSERT_TRUE(smp::IsStoreId(id)) << id;
  const std::string data = DeterministicRandom(21).Bytes(40 << 20);
  auto made = SmpSink::Create(http, id, server_->url() + "/v1/stores/" + id);
  ASSERT_OK(made);
  SmpSink* sink = made->get();
  // The writer appends everything while the server dies under it.
  Status appended;
  std::thread writer([&] { appended = AppendAll(sink, data); });
  for (int i = 0; i < 30000 && sink->acknowledged() < (8u << 20); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const uint64_t before_kill = sink->acknowledged();
  server_->Kill();
  std::string why_not;
  const bool restarted = server_->Restart(&why_not);
  writer.join();
  ASSERT_TRUE(restarted) << why_not;
  ASSERT_OK(appended);
  ASSERT_GE(before_kill, 8u << 20);
  ASSERT_LT(before_kill, data.size()) << "the upload ended before the kill";
  Status committed = sink->Commit();
  ASSERT_TRUE(committed.ok()) << committed.ToString() << "\n" << server_->log();
  EXPECT_GE(sink->resumes(), 1u);
  EXPECT_EQ(sink->committed_store().value("size", uint64_t{0}), data.size());
  ExpectReadsBack(http, id, data);
}

// A linux root with alice and bob, each with a few files.
void MakeRoot(const std::string& root) {
  std::filesystem::create_directories(root + "/etc");
  WriteFile(root + "/etc/passwd",
            "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/"
            "sh\nbob:x:1001:1001::/home/bob:/bin/sh\n");
  WriteFile(root + "/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n");
  DeterministicRandom rnd(30);
  for (const char* user : {"alice", "bob"}) {
    const std::string home = root + "/home/" + user;
    std::filesystem::create_directories(home + "/Documents/deep");
    WriteFile(home + "/Documents/report.txt",
              std::string(user) + "'s report\n");
    WriteFile(home + "/Documents/deep/big.bin", rnd.Bytes(3 << 20));
    WriteFile(home + "/.profile", "export EDITOR=vi\n");
  }
}

TEST_F(SmpServerTest, CaptureOnTheOldComputerAndRestoreOnTheNewOne) {
  TempDir work;
  const std::string root = work / "old";
  MakeRoot(root);
  WriteFile(work / "all.rules", "include %USERPROFILE%\n");
  // The association names alice alone: bob stays behind.
  ASSERT_OK(admin_->Associate("pc-old", "pc-new", {"alice"}));

  auto old_pc = Client(old_token_);
  CaptureOptions co;
  co.root = root;
  co.rules_files = {work / "all.rules"};
  co.threads = 2;
  co.encrypt = false;  // the client's to decide: it encrypts with the key
  SmpStore captured;
  // An incremental capture is refused before a store is requested.
  CaptureOptions incremental = co;
  incremental.base_store = work / "earlier.mig";
  EXPECT_TRUE(old_pc->Capture(incremental, nullptr, &captured)
                  .status()
                  .IsInvalidArgument());
  auto report = old_pc->Capture(co, nullptr, &captured);
  ASSERT_TRUE(report.ok()) << report.status().ToString() << "\n"
                           << server_->log();
  EXPECT_EQ(captured.state, "ready");
  EXPECT_EQ(captured.source, "pc-old");
  EXPECT_EQ(captured.destination, "pc-new");
  EXPECT_EQ(captured.users, std::vector<std::string>{"alice"});
  EXPECT_GT(captured.size, 3u << 20);
  EXPECT_EQ(report->store_path, server_->url() + "/v1/stores/" + captured.id);
  int selected = 0;
  for (const CaptureUser& u : report->users) {
    if (!u.selected) continue;
    ++selected;
    EXPECT_EQ(u.name, "alice");
  }
  EXPECT_EQ(selected, 1);

  // Released: read-only, and the source may not read it any more.
  auto old_http = Http(old_token_);
  Status s = SmpSource::Open(old_http, captured.id, "x").status();
  EXPECT_EQ(ExitCodeFor(s), ExitCode::kInvalidStore) << s.ToString();
  // The old computer has nothing to restore.
  RestoreOptions ro;
  ro.target = work / "new";
  ro.threads = 2;
  auto refused = old_pc->Restore(ro);
  EXPECT_EQ(ExitCodeFor(refused.status()), ExitCode::kInvalidStore)
      << refused.status().ToString();

  auto new_pc = Client(new_token_);
  SmpStore restored;
  auto rr = new_pc->Restore(ro, nullptr, &restored);
  ASSERT_TRUE(rr.ok()) << rr.status().ToString() << "\n" << server_->log();
  EXPECT_EQ(restored.id, captured.id);
  EXPECT_EQ(restored.state, "restored");
  EXPECT_EQ(
      testing::CompareTrees(root + "/home/alice", work / "new/home/alice", {}),
      "");
  EXPECT_FALSE(std::filesystem::exists(work / "new/home/bob"));

  // A restore may run again until the destination releases.
  TempDir again;
  RestoreOptions ro2 = ro;
  ro2.target = again / "t";
  ASSERT_OK(new_pc->Restore(ro2));

  auto released = new_pc->ReleaseRestore();
  ASSERT_OK(released);
  ASSERT_EQ(released->size(), 1u);
  EXPECT_EQ((*released)[0].id, captured.id);
  EXPECT_EQ((*released)[0].state, "released");
  // Released: no more restores.
  s = new_pc->Restore(ro2).status();
  EXPECT_EQ(ExitCodeFor(s), ExitCode::kInvalidStore) << s.ToString();
}

TEST_F(SmpServerTest, AdministrationAndWhoMayDoWhat) {
  bool admin = false;
  auto me = admin_->WhoAmI(&admin);
  ASSERT_OK(me);
  EXPECT_TRUE(admin);
  auto old_pc = Client(old_token_);
  auto name = old_pc->WhoAmI(&admin);
  ASSERT_OK(name);
  EXPECT_EQ(*name, "pc-old");
  EXPECT_FALSE(admin);

  // A computer is not the administrator.
  Status s = old_pc->Enroll("pc-evil").status();
  EXPECT_TRUE(s.IsRefused()) << s.ToString();
  // A token the server does not know.
  auto stranger = Client("00112233445566778899aabbccddeeff");
  s = stranger->WhoAmI().status();
  EXPECT_TRUE(s.IsRefused()) << s.ToString();
  EXPECT_FALSE(testing::Has(s.ToString(), "00112233445566778899aabbccddeeff"));

  ASSERT_OK(admin_->Associate("pc-old", "pc-new", {"alice", "bob"}));
  ASSERT_OK(admin_->SetRetention(5));
  auto listing = admin_->List();
  ASSERT_OK(listing);
  EXPECT_EQ(listing->retention_minutes, 5);
  EXPECT_FALSE(listing->restore_only);
  ASSERT_EQ(listing->associations.size(), 1u);
  EXPECT_EQ(listing->associations[0].source, "pc-old");
  EXPECT_EQ(listing->associations[0].users,
            (std::vector<std::string>{"alice", "bob"}));

  // Restore-only: no new captures.
  ASSERT_OK(admin_->SetRestoreOnly(true));
  auto refused = old_pc->Capture(CaptureOptions());
  EXPECT_EQ(ExitCodeFor(refused.status()), ExitCode::kInvalidStore)
      << refused.status().ToString();
  ASSERT_OK(admin_->SetRestoreOnly(false));

  // A store requested; its key recovered by the administrator; deleted.
  auto http = Http(old_token_);
  const std::string id = RequestCapture(http.get());
  ASSERT_TRUE(smp::IsStoreId(id));
  SmpStore store;
  auto key = admin_->RecoverKey(id, &store);
  ASSERT_OK(key);
  EXPECT_TRUE(key->encrypted());
  EXPECT_EQ(store.id, id);
  EXPECT_TRUE(old_pc->RecoverKey(id).status().IsRefused());
  auto mine = old_pc->List();
  ASSERT_OK(mine);
  ASSERT_EQ(mine->stores.size(), 1u);
  EXPECT_EQ(mine->stores[0].id, id);
  ASSERT_OK(admin_->Delete(id));
  EXPECT_TRUE(admin_->RecoverKey("nothex").status().IsInvalidArgument());
  ASSERT_OK(admin_->Unassociate("pc-old"));
  listing = admin_->List();
  ASSERT_OK(listing);
  EXPECT_TRUE(listing->associations.empty());

  // Re-enrolling replaces the token.
  ASSERT_OK(admin_->Enroll("pc-old"));
  s = old_pc->WhoAmI().status();
  EXPECT_TRUE(s.IsRefused()) << s.ToString();
}

}  // namespace
}  // namespace migstore
