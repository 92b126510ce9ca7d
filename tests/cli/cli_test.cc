// The migstore command as users and scripts see it: output and exit codes.

#include <gtest/gtest.h>

#include "migstore/build_info.h"
#include "tests/util/test_util.h"

namespace migstore::testing {
namespace {

TEST(Cli, VersionNamesTheVersionFormatAndLibraries) {
  RunResult r = RunMigstore({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find(std::string("migstore ") + Version()), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("container format 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("zstd"), std::string::npos);
  EXPECT_NE(r.out.find("libsodium"), std::string::npos);
}

TEST(Cli, HelpExitsWithUsmtsHelpCode) {
  RunResult r = RunMigstore({"--help"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("self-check"), std::string::npos) << r.out;
  EXPECT_EQ(RunMigstore({}).exit_code, 1) << "no command prints help";
}

TEST(Cli, BadArgumentsExitEleven) {
  RunResult r = RunMigstore({"--no-such-option"});
  EXPECT_EQ(r.exit_code, 11);
  EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
  EXPECT_EQ(RunMigstore({"no-such-command"}).exit_code, 11);
}

TEST(Cli, SelfCheckPassesHere) {
  TempDir dir;
  RunResult r = RunMigstore({"self-check", "--dir", dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("self-check passed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_TRUE(ListDir(dir.path()).empty())
      << "the scratch directory was left behind";
}

TEST(Cli, SelfCheckFailsLoudlyWhereItCannotWork) {
  RunResult r = RunMigstore({"self-check", "--dir", "/nonexistent/place"});
  EXPECT_EQ(r.exit_code, 71);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("self-check failed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace migstore::testing
