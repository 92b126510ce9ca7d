// Helpers shared by the tests: scratch directories, file access, running the
// real migstore binary, and GoogleTest matchers for Status and Result.

#ifndef MIGSTORE_TESTS_UTIL_TEST_UTIL_H_
#define MIGSTORE_TESTS_UTIL_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/base/deterministic_random.h"
#include "migstore/result.h"
#include "migstore/status.h"

namespace migstore::testing {

// ASSERT_OK(status_or_result): fails the test with the error's text.
#define ASSERT_OK(expr)                                                    \
  do {                                                                     \
    const auto& migstore_expr_ = (expr);                                   \
    ASSERT_TRUE(migstore_expr_.ok())                                       \
        << #expr << ": " << ::migstore::testing::Describe(migstore_expr_); \
  } while (0)
#define EXPECT_OK(expr)                                                    \
  do {                                                                     \
    const auto& migstore_expr_ = (expr);                                   \
    EXPECT_TRUE(migstore_expr_.ok())                                       \
        << #expr << ": " << ::migstore::testing::Describe(migstore_expr_); \
  } while (0)

inline std::string Describe(const Status& s) { return s.ToString(); }
template <typename T>
std::string Describe(const Result<T>& r) {
  return r.status().ToString();
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it
// when the object dies.
// $TMPDIR, else /tmp: where TempDir() makes its directories.
std::string DefaultTempBase();

class TempDir {
 public:
  TempDir();  // under DefaultTempBase()
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
// Whether two files hold the same bytes, read through fixed buffers: a
// check repeated over megabytes (the crash tests) that would spend its time
// in page faults if every file were read into a fresh string.
bool SameBytes(const std::string& a, const std::string& b);
void WriteFile(const std::string& path, const std::string& data);
// Makes `rel` below `root` (and every folder on the way) with openat, so it
// may be longer than PATH_MAX together with `root`; writes `data` there.
void WriteFileBelow(const std::string& root, const std::string& rel,
                    const std::string& data);

// Names in a directory, without "." and "..", sorted.
std::vector<std::string> ListDir(const std::string& path);

// The result of running the migstore binary.
struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
struct RunOptions {
  std::vector<std::string> env;  // "NAME=value", added to the environment
  std::string stdin_data;        // fed to standard input (else /dev/null)
  // Run as this user (needs root): tests of unreadable files use "nobody",
  // since root reads everything.
  int uid = -1;
  int gid = -1;
  // RLIMIT_FSIZE for the child when > 0, with SIGXFSZ ignored, so a write
  // past it fails with EFBIG the way a full disk fails with ENOSPC.
  uint64_t file_size_limit = 0;
};

// This process's environment with `extra` ("NAME=value") set: a later
// setting of a name replaces an earlier one (getenv would find the first).
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra);

// Runs the built migstore with `args` (no shell).
RunResult RunMigstore(const std::vector<std::string>& args,
                      const RunOptions& options = {});

// Starts the built migstore with `args` (and `env`, as RunOptions::env) in a
// child whose standard streams are /dev/null, and returns its pid (for
// tests that kill it).
int SpawnMigstore(const std::vector<std::string>& args,
                  const std::vector<std::string>& env = {});

// A tmpfs of `size` (mount's size= syntax, "4m") mounted at `at` for the
// object's lifetime, where the system lets the test mount (root); else
// mounted() is false and error() says why.
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& at, const std::string& size = "4m");
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  int error() const { return error_; }

 private:
  std::string at_;
  bool mounted_ = false;
  int error_ = 0;
};

// Whether `text` (a command's output, a message) contains `what`.
inline bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Path of a file in the source tree, e.g. "tests/golden/valid".
std::string SourcePath(const std::string& relative);

// A USMT migration XML of one UserAndSystem component whose role holds
// `role_xml` (its <rules> elements), under `urlid`.
std::string OneComponentMigration(const std::string& role_xml,
                                  const std::string& urlid);

// The line of etc/NAME below `target` for `user` ("user:..."), "" when none.
std::string LineOf(const std::string& target, const std::string& name,
                   const std::string& user);
// Field `n` (0-based) of a ':'-separated line; "" past the last.
std::string Field(const std::string& line, int n);

// The SHA-256 of `data`, as lowercase hex (OpenSSL's): what a client sends
// at an upload's commit.
std::string Sha256Hex(std::string_view data);

}  // namespace migstore::testing

#endif  // MIGSTORE_TESTS_UTIL_TEST_UTIL_H_
