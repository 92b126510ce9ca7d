// The C API (migstore/migstore.h) through the shared library, as an embedder
// uses it: a capture and a restore round trip with callbacks, extract, list
// and verify; keys from a file, a password buffer and a secret buffer (both
// zeroed); cancellation from another thread; the command's codes and
// messages for bad stores, wrong keys and bad options; the struct_size rule;
// the options and counts of API version 5 (free-space minimum, local-only,
// processing, last use, registry settings, ErrorControl, local accounts,
// domain mapping), each seen to take effect, and a version-4 caller.

#include "migstore/migstore.h"

#include <crypt.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "migstore/version.h"
#include "tests/util/hive_fixture.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore {
namespace {

using testing::CompareTrees;
using testing::Field;
using testing::FindTemporaries;
using testing::GetHiveValue;
using testing::LineOf;
using testing::PutHiveValues;
using testing::ReadFile;
using testing::RegSz;
using testing::TempDir;
using testing::WriteFile;
using testing::WriteFileBelow;

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A machine root with one account (alice) and `extra` more small files in
// her Documents.
void MakeRoot(const std::string& root, int extra = 0) {
  std::filesystem::create_directories(root + "/etc");
  WriteFile(root + "/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
  const std::string docs = root + "/home/alice/Documents";
  std::filesystem::create_directories(docs + "/notes");
  WriteFile(docs + "/report.txt", "quarterly numbers\n");
  WriteFile(docs + "/notes/todo.txt", "migrate alice\n");
  // Incompressible (and a compressed type): it fills most of the store, so
  // a byte in the middle of the store file is file data.
  std::string photo(200000, '\0');
  uint32_t x = 12345;
  for (char& c : photo) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  WriteFile(docs + "/photo.jpg", photo);
  WriteFile(root + "/home/alice/.bashrc", "export EDITOR=vi\n");
  for (int i = 0; i < extra; ++i) {
    std::filesystem::create_directories(docs + "/many/" +
                                        std::to_string(i % 50));
    WriteFile(docs + "/many/" + std::to_string(i % 50) + "/f" +
                  std::to_string(i) + ".txt",
              std::string(5000 + i, static_cast<char>('a' + i % 26)));
  }
}

// What the callbacks saw; the library calls them one at a time.
struct Seen {
  std::vector<std::string> phases;
  int progress_calls = 0;
  std::vector<std::pair<std::string, int>> file_errors;
  std::set<std::thread::id> threads;
};

void OnProgress(void* user_data, const migstore_progress* p) {
  auto* seen = static_cast<Seen*>(user_data);
  EXPECT_EQ(p->struct_size, sizeof(migstore_progress));
  ++seen->progress_calls;
  seen->threads.insert(std::this_thread::get_id());
  if (seen->phases.empty() || seen->phases.back() != p->phase)
    seen->phases.emplace_back(p->phase);
  EXPECT_LE(p->files_done,
            p->files_total == 0 ? p->files_done : p->files_total);
}

void OnFileError(void* user_data, const char* path, int code,
                 const char* message) {
  EXPECT_NE(message, nullptr);
  static_cast<Seen*>(user_data)->file_errors.emplace_back(path, code);
}

// A C string the test owns; frees an errmsg.
std::string Take(char* errmsg) {
  std::string s = errmsg ? errmsg : "";
  migstore_free(errmsg);
  return s;
}

// A key handle that destroys itself.
struct KeyHandle {
  migstore_key* key = nullptr;
  ~KeyHandle() { migstore_key_destroy(key); }
};

class CApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeRoot(old_root());
    char* err = nullptr;
    ASSERT_EQ(migstore_keygen(key_path().c_str(), 0, &err), MIGSTORE_OK)
        << Take(err);
    EXPECT_EQ(err, nullptr);
    ASSERT_EQ(migstore_key_from_key_file(key_path().c_str(), &key_.key, &err),
              MIGSTORE_OK)
        << Take(err);
  }

  std::string old_root() const { return dir_ / "old"; }
  std::string new_root() const { return dir_ / "new"; }
  std::string store() const { return dir_ / "pc42.mig"; }
  std::string key_path() const { return dir_ / "pc42.key"; }

  migstore_capture_options CaptureOptions(Seen* seen) const {
    migstore_capture_options o{};
    o.struct_size = sizeof o;
    o.root = root_.c_str();
    o.store_path = store_.c_str();
    o.key = key_.key;
    o.on_progress = OnProgress;
    o.on_file_error = OnFileError;
    o.user_data = seen;
    return o;
  }
  migstore_restore_options RestoreOptions(Seen* seen) const {
    migstore_restore_options o{};
    o.struct_size = sizeof o;
    o.store_path = store_.c_str();
    o.key = key_.key;
    o.target = target_.c_str();
    o.on_progress = OnProgress;
    o.on_file_error = OnFileError;
    o.user_data = seen;
    return o;
  }
  void Capture() {
    Seen seen;
    migstore_capture_options o = CaptureOptions(&seen);
    char* err = nullptr;
    ASSERT_EQ(migstore_capture(&o, nullptr, &err), MIGSTORE_OK) << Take(err);
  }

  TempDir dir_;
  std::string root_ = old_root();
  std::string store_ = store();
  std::string target_ = new_root();
  KeyHandle key_;
};

TEST(CApi, VersionAndCodeNames) {
  EXPECT_STREQ(migstore_version(), MIGSTORE_VERSION_STRING);
  EXPECT_EQ(migstore_c_api_version(), MIGSTORE_C_API_VERSION);
  EXPECT_EQ(MIGSTORE_C_API_VERSION, 6);
  EXPECT_STREQ(migstore_code_name(MIGSTORE_OK), "ok");
  EXPECT_STREQ(migstore_code_name(37), "wrong key");
  EXPECT_STREQ(migstore_code_name(MIGSTORE_FAILED_STARTUP),
               "not enough free space");
  EXPECT_EQ(MIGSTORE_USE_LAC, 14);
  EXPECT_STREQ(migstore_code_name(MIGSTORE_USE_LAC), "local account missing");
  EXPECT_STREQ(migstore_code_name(5), "unknown");
}

TEST_F(CApiTest, CaptureRestoreRoundTripWithCallbacks) {
  Seen captured;
  migstore_capture_options co = CaptureOptions(&captured);
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  char* err = reinterpret_cast<char*>(1);  // must be overwritten
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(cr.struct_size, sizeof cr);
  EXPECT_EQ(cr.files, 4u);
  EXPECT_EQ(cr.users_selected, 1u);
  EXPECT_EQ(cr.bytes, 200000u + 18 + 14 + 17);
  EXPECT_EQ(cr.store_size, std::filesystem::file_size(store()));
  EXPECT_GT(captured.progress_calls, 0);
  EXPECT_EQ(captured.phases.back(), "Done");
  EXPECT_TRUE(captured.file_errors.empty());

  Seen restored;
  migstore_restore_options ro = RestoreOptions(&restored);
  migstore_restore_result rr{};
  rr.struct_size = sizeof rr;
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.files, 4u);
  EXPECT_EQ(rr.bytes, cr.bytes);
  EXPECT_GT(restored.progress_calls, 0);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");
  EXPECT_TRUE(FindTemporaries(new_root()).empty());

  // Again: everything is already there.
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_GE(rr.identical, 4u);
  EXPECT_EQ(rr.renamed, 0u);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");
}

// The fields appended after version 1 of the structs: a hard-link capture
// through the C API, restored with the same call (the store kind is
// detected), the store's files sharing inodes with the originals.
TEST_F(CApiTest, HardLinkCaptureAndRestore) {
  Seen seen;
  store_ = dir_ / "hl";
  migstore_capture_options co = CaptureOptions(&seen);
  co.hardlink = 1;
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  char* err = nullptr;
  // An encrypted hard-link store cannot exist: the key is refused.
  EXPECT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("cannot be encrypted"), std::string::npos);
  co.key = nullptr;
  co.no_encrypt = 1;
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.linked_files, cr.files);
  EXPECT_EQ(cr.copied_files, 0u);
  EXPECT_EQ(cr.files, 4u);

  migstore_restore_options ro = RestoreOptions(&seen);
  ro.key = nullptr;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");
  // Same filesystem: restored by linking back, so one inode for all three.
  const std::string rel = "/home/alice/Documents/report.txt";
  struct stat original, restored;
  ASSERT_EQ(::stat((old_root() + rel).c_str(), &original), 0);
  ASSERT_EQ(::stat((new_root() + rel).c_str(), &restored), 0);
  EXPECT_EQ(restored.st_ino, original.st_ino);
  EXPECT_EQ(original.st_nlink, 3u);
}

// Appended in API version 3: strip_privileges (docs/security.md, "Restore
// as root versus as a user"). A caller of the first version of the struct
// gets the bits reproduced, as before.
TEST_F(CApiTest, StripPrivilegesRestoresWithoutSetuid) {
  const std::string rel = "/home/alice/.bashrc";
  ASSERT_EQ(::chmod((old_root() + rel).c_str(), 04755), 0);
  Capture();
  Seen seen;
  migstore_restore_options ro = RestoreOptions(&seen);
  ro.strip_privileges = 1;
  char* err = nullptr;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  struct stat st;
  ASSERT_EQ(::stat((new_root() + rel).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  target_ = dir_ / "v1";
  ro = RestoreOptions(&seen);
  ro.struct_size = offsetof(migstore_restore_options, cancel) +
                   sizeof(migstore_restore_options::cancel);
  ro.strip_privileges = 1;  // beyond the caller's struct: not read
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  ASSERT_EQ(::stat((target_ + rel).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
}

// --- API version 5 ---------------------------------------------------------

// Where version 4 of each struct ended: what a caller built against that
// header passes as struct_size. Version 4 of the restore options ended in
// padding after strip_privileges (an int after a uint64_t); version 5's
// first field is a pointer, which starts past that padding, so no field of
// version 5 lies inside a version-4 caller's struct.
constexpr size_t kV4CaptureOptions =
    offsetof(migstore_capture_options, local_only);
constexpr size_t kV4CaptureResult =
    offsetof(migstore_capture_result, registry_keys);
constexpr size_t kV4RestoreOptions =
    offsetof(migstore_restore_options, config_file);
constexpr size_t kV4RestoreResult =
    offsetof(migstore_restore_result, registry_keys);
// sizeof a struct whose last field ends at `end`: rounded up to its
// alignment.
constexpr size_t SizeEndingAt(size_t end, size_t align) {
  return (end + align - 1) / align * align;
}
static_assert(kV4CaptureOptions ==
              SizeEndingAt(offsetof(migstore_capture_options,
                                    hardlink_fallback_error) +
                               sizeof(int),
                           alignof(migstore_capture_options)));
static_assert(kV4RestoreOptions ==
              SizeEndingAt(offsetof(migstore_restore_options,
                                    strip_privileges) +
                               sizeof(int),
                           alignof(migstore_restore_options)));

// An offline Windows root's folders: alice's profile, the hives' folder.
void MakeWindowsRoot(const std::string& root) {
  std::filesystem::create_directories(root + "/Windows/System32/config");
  std::filesystem::create_directories(root + "/Users/alice/Documents");
}

// A USMT migration XML of one component holding `rules`.
std::string MigrationXml(const std::string& rules) {
  return testing::OneComponentMigration(rules, "http://test/c_api");
}

// A linux target whose accounts are root's only (etc/passwd, group,
// shadow, gshadow): alice, uid 1000 in the store, has none there.
void MakeTargetWithoutAlice(const std::string& t) {
  std::filesystem::create_directories(t + "/etc");
  WriteFile(t + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  WriteFile(t + "/etc/group", "root:x:0:\nshadow:x:42:\n");
  WriteFile(t + "/etc/shadow", "root:*:19000:0:99999:7:::\n");
  WriteFile(t + "/etc/gshadow", "root:*::\nshadow:*::\n");
  ASSERT_EQ(::chmod((t + "/etc/shadow").c_str(), 0640), 0);
}

// Less free space than min_free_bytes asks for: 29, before anything is
// written, on the store's side and on the target's.
TEST_F(CApiTest, MinFreeBytesRefusesToStartWithNothingWritten) {
  constexpr uint64_t kExbibyte = uint64_t{1} << 60;
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.min_free_bytes = kExbibyte;
  char* err = nullptr;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_FAILED_STARTUP);
  EXPECT_TRUE(Has(Take(err), "below the"));
  EXPECT_FALSE(std::filesystem::exists(store()));
  co.min_free_bytes = 1 << 20;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);

  target_ = dir_ / "not/yet";
  migstore_restore_options ro = RestoreOptions(&seen);
  ro.min_free_bytes = kExbibyte;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_FAILED_STARTUP);
  EXPECT_TRUE(Has(Take(err), "the target"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "not"));
  ro.min_free_bytes = 1 << 20;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(ReadFile(target_ + "/home/alice/.bashrc"), "export EDITOR=vi\n");
}

// no_compress: the store holds a compressible file's bytes as they are.
// local_only: accepted (the root has no mount point to leave out; which
// filesystems are network or removable is locality_test's).
TEST_F(CApiTest, NoCompressStoresTheBytesAsTheyAreAndLocalOnlyIsAccepted) {
  WriteFile(old_root() + "/home/alice/Documents/log.txt",
            std::string(100000, 'a'));
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.local_only = 1;
  migstore_capture_result packed{};
  packed.struct_size = sizeof packed;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, &packed, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(packed.files, 5u);

  co.overwrite = 1;
  co.local_only = 0;
  co.no_compress = 1;
  migstore_capture_result raw{};
  raw.struct_size = sizeof raw;
  ASSERT_EQ(migstore_capture(&co, &raw, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(raw.files, 5u);
  EXPECT_GT(raw.store_size, packed.store_size + 90000);
  migstore_restore_options ro = RestoreOptions(&seen);
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");
}

// last_used (ScanState /uel): alice's profile was last used in May 2008
// (the newest modification time at the top of her home, on a root without
// wtmp or lastlog); the store keeps that, and a restore chooses by it too.
TEST_F(CApiTest, LastUsedChoosesUsersAtCaptureAndRestore) {
  const struct timespec may_2008[2] = {{1210852800, 0}, {1210852800, 0}};
  for (const char* rel : {"", "/Documents", "/.bashrc"}) {
    const std::string path = old_root() + "/home/alice" + rel;
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), may_2008, 0), 0) << path;
  }
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.last_used = "30";
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.users_selected, 0u);
  EXPECT_EQ(cr.files, 0u);
  co.overwrite = 1;
  co.last_used = "lately";
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "lately"));
  co.last_used = "2008/05/01";
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.users_selected, 1u);
  EXPECT_EQ(cr.files, 4u);

  migstore_restore_options ro = RestoreOptions(&seen);
  ro.last_used = "0";  // who is logged on is no store's to say
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "logged on now"));
  ro.last_used = "30";
  migstore_restore_result rr{};
  rr.struct_size = sizeof rr;
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.files, 0u);
  EXPECT_FALSE(std::filesystem::exists(new_root() + "/home/alice/.bashrc"));
  ro.last_used = "2008-05-01";
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.files, 4u);
  EXPECT_EQ(ReadFile(new_root() + "/home/alice/.bashrc"), "export EDITOR=vi\n");
}

// A rules file's <externalProcess> command lines run only with
// allow_processing: at capture (pre-scan, in the root) and at restore
// (pre-apply, in the target).
TEST_F(CApiTest, AllowProcessingRunsTheRulesCommandLines) {
  root_ = dir_ / "win";
  target_ = dir_ / "win-target";
  for (const std::string& r : {root_, target_}) {
    MakeWindowsRoot(r);
    PutHiveValues(r + "/Windows/System32/config/SOFTWARE",
                  {{"Microsoft", "", 0, "", true}});
  }
  WriteFileBelow(root_, "Data/d.txt", "d");
  const std::string log = dir_ / "steps.log";
  auto step = [&](const std::string& when) {
    return "<externalProcess when=\"" + when +
           "\"><commandLine>echo \"$MIGSTORE_PHASE $(pwd)\" &gt;&gt; " + log +
           "</commandLine></externalProcess>\n";
  };
  const std::string rules = dir_ / "rules.xml";
  WriteFile(rules,
            MigrationXml("<rules context=\"System\">\n<include><objectSet>"
                         "<pattern type=\"File\">C:\\Data\\* [*]</pattern>"
                         "</objectSet></include>\n" +
                         step("pre-scan") + step("pre-apply") + "</rules>\n"));
  const char* rules_files[] = {rules.c_str()};
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.rules_files = rules_files;
  co.rules_files_count = 1;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_FALSE(std::filesystem::exists(log)) << "ran without being allowed";
  co.overwrite = 1;
  co.allow_processing = 1;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);
  const std::string root = std::filesystem::canonical(root_).string();
  EXPECT_EQ(ReadFile(log), "pre-scan " + root + "\n");

  migstore_restore_options ro = RestoreOptions(&seen);
  ro.rules_files = rules_files;
  ro.rules_files_count = 1;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(ReadFile(log), "pre-scan " + root + "\n");
  ro.allow_processing = 1;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  const std::string target = std::filesystem::canonical(target_).string();
  EXPECT_EQ(ReadFile(log), "pre-scan " + root + "\npre-apply " + target + "\n");
  EXPECT_EQ(ReadFile(target_ + "/Data/d.txt"), "d");
}

// Settings from a Windows root's offline hives: counted at capture and at
// restore; the machine's (HKLM) written only with machine_settings; a
// missing target hive an error that a Config.xml's <ErrorControl> (as
// restore --config) makes one to skip.
TEST_F(CApiTest, RegistrySettingsMachineSettingsAndErrorControl) {
  root_ = dir_ / "win";
  target_ = dir_ / "win-target";
  MakeWindowsRoot(root_);
  WriteFile(root_ + "/Users/alice/Documents/a.txt", "a");
  PutHiveValues(root_ + "/Users/alice/NTUSER.DAT",
                {{"Software\\App", "Theme", 1, RegSz("dark")}});
  PutHiveValues(root_ + "/Windows/System32/config/SOFTWARE",
                {{"App", "License", 1, RegSz("L")}});
  const std::string rules = dir_ / "settings.xml";
  WriteFile(
      rules,
      MigrationXml(
          "<rules>\n<include><objectSet>\n"
          "<pattern type=\"Registry\">HKCU\\Software\\App\\* [*]</pattern>\n"
          "<pattern type=\"Registry\">HKLM\\SOFTWARE\\App\\* [*]</pattern>\n"
          "<pattern type=\"File\">%CSIDL_PERSONAL%\\* [*]</pattern>\n"
          "</objectSet></include>\n</rules>\n"));
  const char* rules_files[] = {rules.c_str()};
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.rules_files = rules_files;
  co.rules_files_count = 1;
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.registry_values, 2u);
  EXPECT_GT(cr.registry_keys, 0u);
  EXPECT_EQ(cr.files, 1u);

  // A target with alice's hive and no SOFTWARE hive.
  MakeWindowsRoot(target_);
  PutHiveValues(target_ + "/Users/alice/NTUSER.DAT", {});
  const std::string software = target_ + "/Windows/System32/config/SOFTWARE";
  migstore_restore_options ro = RestoreOptions(&seen);
  migstore_restore_result rr{};
  rr.struct_size = sizeof rr;
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.registry_values, 1u) << "alice's; the machine's left out";
  EXPECT_GT(rr.registry_keys, 0u);
  uint32_t type = 0;
  std::string data;
  ASSERT_TRUE(GetHiveValue(target_ + "/Users/alice/NTUSER.DAT", "Software\\App",
                           "Theme", &type, &data));
  EXPECT_EQ(data, RegSz("dark"));
  EXPECT_FALSE(std::filesystem::exists(software));

  // Asked for, the machine's settings need the SOFTWARE hive: error 2.
  ro.machine_settings = 1;
  EXPECT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_STOPPED_ON_ERROR);
  Take(err);
  const std::string config = dir_ / "Config.xml";
  WriteFile(config,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Configuration>\n"
            "<Policies>\n<ErrorControl>\n<registryError>\n"
            "<nonFatal errorCode=\"2\">HKLM\\* [*]</nonFatal>\n"
            "</registryError>\n</ErrorControl>\n</Policies>\n"
            "</Configuration>\n");
  ro.config_file = config.c_str();
  EXPECT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_DONE_WITH_ERRORS);
  Take(err);
  EXPECT_FALSE(std::filesystem::exists(software));

  // With the hive there, they are written.
  PutHiveValues(software, {});
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.registry_values, 2u);
  ASSERT_TRUE(GetHiveValue(software, "App", "License", &type, &data));
  EXPECT_EQ(data, RegSz("L"));
}

// Local accounts (LoadState /lac, /lae): a linux target without alice's
// account stops the restore (14) unless create_accounts; the password is
// the caller's string, hashed, never in a message, and not changed.
TEST_F(CApiTest, LocalAccountsAreCreatedOnlyWhenAsked) {
  Capture();
  target_ = dir_ / "t";
  MakeTargetWithoutAlice(target_);
  const std::string passwd = ReadFile(target_ + "/etc/passwd");
  Seen seen;
  migstore_restore_options ro = RestoreOptions(&seen);
  char* err = nullptr;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_USE_LAC);
  EXPECT_TRUE(Has(Take(err), "no account for alice"));
  EXPECT_FALSE(std::filesystem::exists(target_ + "/home"));
  EXPECT_EQ(ReadFile(target_ + "/etc/passwd"), passwd);
  // A caller of version 4 cannot have asked for accounts: the same 14.
  ro.struct_size = kV4RestoreOptions;
  ro.create_accounts = 1;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_USE_LAC);
  Take(err);
  ro.struct_size = sizeof ro;

  // Refused before anything is written: a password without
  // create_accounts, enable_accounts without it or without a password.
  char password[] = "Corr3ct horse";
  ro.create_accounts = 0;
  ro.account_password = password;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_FALSE(Has(Take(err), "Corr3ct")) << "the password is in no message";
  ro.account_password = nullptr;
  ro.enable_accounts = 1;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  ro.create_accounts = 1;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "empty password"));
  EXPECT_FALSE(std::filesystem::exists(target_ + "/home"));

  // Created, locked.
  ro.enable_accounts = 0;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(LineOf(target_, "passwd", "alice"),
            "alice:x:1000:1000::/home/alice:/bin/sh");
  EXPECT_EQ(LineOf(target_, "group", "alice"), "alice:x:1000:");
  EXPECT_EQ(Field(LineOf(target_, "shadow", "alice"), 1), "!");
  EXPECT_EQ(ReadFile(target_ + "/home/alice/.bashrc"), "export EDITOR=vi\n");

  // Enabled with the password: its hash (SHA-512: the target's login.defs
  // names no ENCRYPT_METHOD), to be changed at first login.
  target_ = dir_ / "t2";
  MakeTargetWithoutAlice(target_);
  ro = RestoreOptions(&seen);
  ro.create_accounts = 1;
  ro.enable_accounts = 1;
  ro.account_password = password;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  const std::string shadow = LineOf(target_, "shadow", "alice");
  const std::string hash = Field(shadow, 1);
  ASSERT_EQ(hash.compare(0, 3, "$6$"), 0) << shadow;
  auto data = std::make_unique<crypt_data>();
  const char* again =
      ::crypt_rn("Corr3ct horse", hash.c_str(), data.get(), sizeof(*data));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(std::string(again), hash) << "the hash of the caller's password";
  EXPECT_EQ(Field(shadow, 2), "0");
  EXPECT_STREQ(password, "Corr3ct horse") << "borrowed: the caller's to wipe";
}

// map_domains (LoadState /md): sssd's alice@OLD restored as alice@NEW,
// into NEW's home; a malformed pair is 11.
TEST_F(CApiTest, MapDomainsRestoresDomainUsersAsTheNewDomains) {
  root_ = dir_ / "domain";
  std::filesystem::create_directories(root_ + "/etc");
  WriteFile(root_ + "/etc/passwd",
            "carol@old.example:x:1500:1500::/home/carol@old.example:"
            "/bin/sh\n");
  WriteFileBelow(root_, "home/carol@old.example/Documents/c.txt", "c");
  Capture();
  Seen seen;
  migstore_restore_options ro = RestoreOptions(&seen);
  const char* bad[] = {"old.example"};
  ro.map_domains = bad;
  ro.map_domains_count = 1;
  char* err = nullptr;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_FALSE(std::filesystem::exists(new_root()));
  const char* domains[] = {"OLD.example:new.example"};
  ro.map_domains = domains;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(ReadFile(new_root() + "/home/carol@new.example/Documents/c.txt"),
            "c");
  EXPECT_FALSE(std::filesystem::exists(new_root() + "/home/carol@old.example"));
}

// API version 6: the cipher by name, and an incremental capture on a base
// (which files it takes over is incremental_capture_test's: here the tree
// is seconds old, and files must have settled a minute before the base was
// made, so all are read again and the new store stands alone all the same).
TEST_F(CApiTest, CipherAndAnIncrementalCaptureOnABaseStore) {
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.cipher = "aes-256-gcm";
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);

  const std::string second = dir_ / "pc42-2.mig";
  co = CaptureOptions(&seen);
  co.store_path = second.c_str();
  co.base_store = store_.c_str();
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.files, 4u);
  EXPECT_EQ(cr.base_files, 0u);
  EXPECT_EQ(cr.base_bytes, 0u);
  EXPECT_EQ(cr.base_files_read_again, 0u);

  // The second store stands alone.
  std::filesystem::remove(store_);
  store_ = second;
  migstore_restore_options ro = RestoreOptions(&seen);
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");

  co = CaptureOptions(&seen);
  co.overwrite = 1;
  co.cipher = "rot13";
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("cipher"), std::string::npos);
  co.cipher = nullptr;
  const std::string none = dir_ / "none.mig";
  co.base_store = none.c_str();
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("base store"), std::string::npos);
}

// A caller built against version 4 of the header: its structs end before
// version 5's fields, which are neither read (options) nor written
// (results) whatever the memory beyond holds, and take their defaults.
TEST_F(CApiTest, AVersion4CallerGetsTheDefaultsOfVersion5) {
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.struct_size = kV4CaptureOptions;
  co.min_free_bytes = uint64_t{1} << 60;  // would be 29
  co.last_used = "not a date";            // would be 11
  migstore_capture_result cr{};
  cr.struct_size = kV4CaptureResult;
  cr.registry_keys = 77;
  cr.registry_values = 77;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, &cr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(cr.files, 4u);
  EXPECT_EQ(cr.registry_keys, 77u) << "not the library's to write";
  EXPECT_EQ(cr.registry_values, 77u);

  migstore_restore_options ro = RestoreOptions(&seen);
  ro.struct_size = kV4RestoreOptions;
  ro.min_free_bytes = uint64_t{1} << 60;  // would be 29
  ro.map_domains_count = 1;               // a NULL array: would be 11
  migstore_restore_result rr{};
  rr.struct_size = kV4RestoreResult;
  rr.registry_keys = 77;
  rr.registry_values = 77;
  ASSERT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(rr.files, 4u);
  EXPECT_EQ(rr.registry_keys, 77u);
  EXPECT_EQ(rr.registry_values, 77u);
  EXPECT_EQ(
      CompareTrees(old_root() + "/home/alice", new_root() + "/home/alice"), "");
}

TEST_F(CApiTest, ListVerifyAndExtract) {
  Capture();
  struct Listed {
    std::vector<std::string> paths;
  } listed;
  migstore_list_options lo{};
  lo.struct_size = sizeof lo;
  lo.store_path = store_.c_str();
  lo.key = key_.key;
  lo.user_data = &listed;
  lo.on_entry = [](void* user_data, const migstore_entry* e) {
    EXPECT_EQ(e->struct_size, sizeof(migstore_entry));
    if (std::strcmp(e->type, "file") == 0) {
      static_cast<Listed*>(user_data)->paths.emplace_back(e->path);
      EXPECT_STREQ(e->user, "alice");
    }
    return 0;
  };
  migstore_list_result lr{};
  lr.struct_size = sizeof lr;
  char* err = nullptr;
  ASSERT_EQ(migstore_list(&lo, &lr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(lr.encrypted, 1);
  EXPECT_EQ(lr.users, 1u);
  EXPECT_EQ(listed.paths.size(), 4u);
  EXPECT_NE(std::find(listed.paths.begin(), listed.paths.end(),
                      "home/alice/Documents/report.txt"),
            listed.paths.end());

  // A callback that says stop: the listing stops with "cancelled".
  lo.on_entry = [](void*, const migstore_entry*) { return 1; };
  EXPECT_EQ(migstore_list(&lo, nullptr, &err), MIGSTORE_CANCELLED);
  EXPECT_NE(Take(err), "");

  migstore_verify_options vo{};
  vo.struct_size = sizeof vo;
  vo.store_path = store_.c_str();
  vo.key = key_.key;
  migstore_verify_result vr{};
  vr.struct_size = sizeof vr;
  ASSERT_EQ(migstore_verify(&vo, &vr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(vr.files, 4u);
  EXPECT_EQ(vr.files_intact, 4u);
  EXPECT_EQ(vr.catalog_intact, 1);

  const char* include[] = {"*.txt"};
  const std::string to = dir_ / "out";
  migstore_extract_options xo{};
  xo.struct_size = sizeof xo;
  xo.store_path = store_.c_str();
  xo.key = key_.key;
  xo.to = to.c_str();
  xo.include = include;
  xo.include_count = 1;
  migstore_restore_result xr{};
  xr.struct_size = sizeof xr;
  ASSERT_EQ(migstore_extract(&xo, &xr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(xr.files, 2u);
  EXPECT_EQ(ReadFile(to + "/home/alice/Documents/notes/todo.txt"),
            "migrate alice\n");
  EXPECT_FALSE(std::filesystem::exists(to + "/home/alice/Documents/photo.jpg"));
}

TEST_F(CApiTest, PasswordAndSecretBuffersAreCopiedAndZeroed) {
  char password[] = "correct horse battery staple";
  const size_t n = std::strlen(password);
  KeyHandle by_password;
  char* err = nullptr;
  ASSERT_EQ(migstore_key_from_password(password, n, &by_password.key, &err),
            MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(std::string(password, n), std::string(n, '\0'));

  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.key = by_password.key;
  co.kdf_opslimit = 1;
  co.kdf_memlimit = 8192;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);

  // The same password from a file opens it; another password does not.
  WriteFile(dir_ / "password", "correct horse battery staple\n");
  KeyHandle from_file;
  ASSERT_EQ(migstore_key_from_password_file((dir_ / "password").c_str(),
                                            &from_file.key, &err),
            MIGSTORE_OK)
      << Take(err);
  migstore_restore_options ro = RestoreOptions(&seen);
  ro.key = from_file.key;
  ASSERT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  char wrong[] = "incorrect";
  KeyHandle wrong_key;
  ASSERT_EQ(migstore_key_from_password(wrong, 9, &wrong_key.key, &err),
            MIGSTORE_OK);
  ro.key = wrong_key.key;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_WRONG_KEY);
  EXPECT_NE(Take(err).find("Wrong key"), std::string::npos);
  ro.key = nullptr;  // none at all, for an encrypted store
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_WRONG_KEY);
  Take(err);

  // A secret of the wrong size is refused, and zeroed all the same.
  unsigned char short_secret[16];
  std::memset(short_secret, 7, sizeof short_secret);
  KeyHandle none;
  EXPECT_EQ(migstore_key_from_secret(short_secret, sizeof short_secret,
                                     &none.key, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err), "");
  EXPECT_EQ(none.key, nullptr);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(short_secret), 16),
            std::string(16, '\0'));

  // A key file's secret held in memory opens what the key file sealed.
  const std::string text = ReadFile(key_path());
  const std::string hex = text.substr(text.find(' ') + 1, 64);
  unsigned char secret[32];
  for (int i = 0; i < 32; ++i)
    secret[i] = static_cast<unsigned char>(
        std::stoi(hex.substr(2 * static_cast<size_t>(i), 2), nullptr, 16));
  KeyHandle by_secret;
  ASSERT_EQ(migstore_key_from_secret(secret, 32, &by_secret.key, &err),
            MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(secret), 32),
            std::string(32, '\0'));
  std::filesystem::remove(store());
  Capture();  // sealed with the key file
  ro.key = by_secret.key;
  ro.on_conflict = MIGSTORE_CONFLICT_OVERWRITE;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
}

TEST_F(CApiTest, BadStoresGiveTheCommandsCodesAndMessages) {
  Seen seen;
  migstore_restore_options ro = RestoreOptions(&seen);
  char* err = nullptr;
  // Missing.
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("pc42.mig"), std::string::npos);
  // Not a store.
  WriteFile(store(), std::string(10000, 'x'));
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Not a store"), std::string::npos);
  migstore_verify_options vo{};
  vo.struct_size = sizeof vo;
  vo.store_path = store_.c_str();
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_INVALID_STORE);
  Take(err);
  // The same as the command says.
  testing::RunResult cli = testing::RunMigstore({"verify", "--store", store()});
  EXPECT_EQ(cli.exit_code, MIGSTORE_INVALID_STORE);
  // A key file that is not one.
  WriteFile(dir_ / "bad.key", "not a key\n");
  KeyHandle bad;
  EXPECT_EQ(
      migstore_key_from_key_file((dir_ / "bad.key").c_str(), &bad.key, &err),
      MIGSTORE_KEY_UNREADABLE);
  EXPECT_NE(Take(err), "");
  EXPECT_EQ(bad.key, nullptr);
  // A capture onto an existing store without overwrite.
  migstore_capture_options co = CaptureOptions(&seen);
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_STORE);
  Take(err);
  // Encryption is only off when said so.
  co.key = nullptr;
  co.overwrite = 1;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  co.no_encrypt = 1;
  EXPECT_EQ(migstore_capture(&co, nullptr, nullptr), MIGSTORE_OK);
  ro.on_conflict = 9;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("on_conflict"), std::string::npos);
}

TEST_F(CApiTest, AKeyRefusesAnUnencryptedStoreUnlessAllowed) {
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.key = nullptr;
  co.no_encrypt = 1;
  char* err = nullptr;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);

  // Given a key, every reading call refuses the store with 27, and a
  // restore makes no target.
  migstore_restore_options ro = RestoreOptions(&seen);
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Refused: " + store() +
                           ": is not encrypted, but a key was given"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(new_root()));
  const std::string to = dir_ / "out";
  migstore_extract_options xo{};
  xo.struct_size = sizeof xo;
  xo.store_path = store_.c_str();
  xo.key = key_.key;
  xo.to = to.c_str();
  EXPECT_EQ(migstore_extract(&xo, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Refused"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(to));
  migstore_verify_options vo{};
  vo.struct_size = sizeof vo;
  vo.store_path = store_.c_str();
  vo.key = key_.key;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Refused"), std::string::npos);
  migstore_list_options lo{};
  lo.struct_size = sizeof lo;
  lo.store_path = store_.c_str();
  lo.key = key_.key;
  EXPECT_EQ(migstore_list(&lo, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Refused"), std::string::npos);
  // A caller built against the first version of the structs gets the same
  // safe answer: it cannot have asked for anything else.
  ro.struct_size =
      offsetof(migstore_restore_options, cancel) + sizeof(ro.cancel);
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_INVALID_STORE);
  Take(err);
  ro.struct_size = sizeof ro;

  // Said on purpose, it is read.
  ro.allow_unencrypted = 1;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(ReadFile(new_root() + "/home/alice/.bashrc"), "export EDITOR=vi\n");
  xo.allow_unencrypted = 1;
  EXPECT_EQ(migstore_extract(&xo, nullptr, &err), MIGSTORE_OK) << Take(err);
  vo.allow_unencrypted = 1;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_OK) << Take(err);
  lo.allow_unencrypted = 1;
  EXPECT_EQ(migstore_list(&lo, nullptr, &err), MIGSTORE_OK) << Take(err);
}

TEST_F(CApiTest, KeyDerivationCostlierThanAllowedIsRefused) {
  // A password store with a cheap Argon2id (2 passes, 16 KiB).
  std::string pw = "correct horse";
  KeyHandle key;
  char* err = nullptr;
  ASSERT_EQ(migstore_key_from_password(pw.data(), pw.size(), &key.key, &err),
            MIGSTORE_OK)
      << Take(err);
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.key = key.key;
  co.kdf_opslimit = 2;
  co.kdf_memlimit = 16 * 1024;
  ASSERT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);
  migstore_verify_options vo{};
  vo.struct_size = sizeof vo;
  vo.store_path = store_.c_str();
  vo.key = key.key;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_OK) << Take(err);
  // Limits below what it asks for (to show the mechanism; the defaults are
  // 6 passes and 512 MiB): refused with 27 before any derivation.
  vo.max_kdf_memory = 8 * 1024;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_INVALID_STORE);
  EXPECT_NE(Take(err).find("Refused: " + store() +
                           ": the store's password needs Argon2id with 2 "
                           "passes over 16 KiB"),
            std::string::npos);
  vo.max_kdf_memory = 0;
  vo.max_kdf_passes = 1;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_INVALID_STORE);
  Take(err);
  vo.max_kdf_passes = 2;
  vo.max_kdf_memory = 16 * 1024;
  EXPECT_EQ(migstore_verify(&vo, nullptr, &err), MIGSTORE_OK) << Take(err);
}

TEST_F(CApiTest, AKeyFileOthersCanReadIsUsedWithAWarning) {
  // The key file keygen wrote is 0600: nothing to say. Opened to others it
  // is used, with a warning the caller can show.
  char* err = nullptr;
  EXPECT_EQ(migstore_key_warning(key_.key), nullptr);
  EXPECT_EQ(migstore_key_warning(nullptr), nullptr);
  ASSERT_EQ(::chmod(key_path().c_str(), 0644), 0);
  KeyHandle loose;
  ASSERT_EQ(migstore_key_from_key_file(key_path().c_str(), &loose.key, &err),
            MIGSTORE_OK)
      << Take(err);
  ASSERT_NE(migstore_key_warning(loose.key), nullptr);
  EXPECT_NE(std::string(migstore_key_warning(loose.key))
                .find("permissions 0644 for '" + key_path() + "' are too open"),
            std::string::npos);
  // Used all the same: it opens the store the tight key locked.
  Capture();
  migstore_list_options lo{};
  lo.struct_size = sizeof lo;
  lo.store_path = store_.c_str();
  lo.key = loose.key;
  EXPECT_EQ(migstore_list(&lo, nullptr, &err), MIGSTORE_OK) << Take(err);
}

TEST_F(CApiTest, OptionsStructSizeRule) {
  char* err = nullptr;
  // NULL options, struct_size 0, one byte short of the first version.
  EXPECT_EQ(migstore_capture(nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.struct_size = 0;
  migstore_capture_result untouched{};  // struct_size 0: no room at all
  untouched.files = 99;
  EXPECT_EQ(migstore_capture(&co, &untouched, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("struct_size"), std::string::npos);
  EXPECT_EQ(untouched.files, 99u);
  // The first version of the struct ended with `cancel`; the hard-link
  // fields came after it.
  const size_t v1_end = offsetof(migstore_capture_options, cancel) +
                        sizeof(migstore_capture_options::cancel);
  co.struct_size = v1_end - 1;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_FALSE(std::filesystem::exists(store()));
  // A caller built against the first version: its struct ends there, and
  // what follows in memory (here hardlink = 1) is not read.
  co.struct_size = v1_end;
  co.hardlink = 1;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_OK) << Take(err);
  EXPECT_TRUE(std::filesystem::is_regular_file(store())) << "a container";
  std::filesystem::remove(store());

  // A caller built against a newer header: a larger struct whose unknown
  // fields are zero works; one that sets them is refused.
  struct Newer {
    migstore_capture_options v1;
    uint64_t later_field;
  } newer{};
  newer.v1 = CaptureOptions(&seen);
  newer.v1.struct_size = sizeof newer;
  EXPECT_EQ(migstore_capture(&newer.v1, nullptr, &err), MIGSTORE_OK)
      << Take(err);
  newer.later_field = 1;
  newer.v1.overwrite = 1;
  EXPECT_EQ(migstore_capture(&newer.v1, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("does not know"), std::string::npos);

  // A result struct too small for the first version is refused before
  // anything runs; a larger one is filled up to what the library knows.
  migstore_restore_options ro = RestoreOptions(&seen);
  migstore_restore_result small{};
  small.struct_size = sizeof(size_t);
  EXPECT_EQ(migstore_restore(&ro, &small, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_FALSE(std::filesystem::exists(new_root()));
  struct NewerResult {
    migstore_restore_result v1;
    uint64_t later_field;
  } big{};
  big.v1.struct_size = sizeof big;
  big.later_field = 77;
  ASSERT_EQ(migstore_restore(&ro, &big.v1, &err), MIGSTORE_OK) << Take(err);
  EXPECT_EQ(big.v1.struct_size, sizeof big);
  EXPECT_EQ(big.v1.files, 4u);
  EXPECT_EQ(big.later_field, 77u);  // not the library's to write

  // Arrays: a count with a NULL array, a NULL inside one.
  co = CaptureOptions(&seen);
  co.overwrite = 1;
  co.rules_files_count = 1;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_NE(Take(err).find("rules_files"), std::string::npos);
  const char* users[] = {"alice", nullptr};
  co.rules_files_count = 0;
  co.users_include = users;
  co.users_include_count = 2;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
}

TEST_F(CApiTest, DamageGivesTheCommandsCodes) {
  Capture();
  // Flip one byte in the middle of the store: inside the data block.
  const std::string path = store();
  std::string bytes = ReadFile(path);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  WriteFile(path, bytes);

  Seen seen;
  migstore_verify_options vo{};
  vo.struct_size = sizeof vo;
  vo.store_path = store_.c_str();
  vo.key = key_.key;
  vo.on_file_error = OnFileError;
  vo.user_data = &seen;
  migstore_verify_result vr{};
  vr.struct_size = sizeof vr;
  char* err = nullptr;
  EXPECT_EQ(migstore_verify(&vo, &vr, &err), MIGSTORE_CORRUPTED_STORE);
  EXPECT_NE(Take(err).find("damaged"), std::string::npos);
  EXPECT_GE(vr.files_damaged, 1u);
  EXPECT_EQ(vr.files_intact + vr.files_damaged, 4u);
  ASSERT_EQ(seen.file_errors.size(), vr.files_damaged);
  for (const auto& [file, code] : seen.file_errors) {
    EXPECT_EQ(code, MIGSTORE_CORRUPTED_STORE) << file;
  }
  // The same verdict as the command's.
  testing::RunResult cli = testing::RunMigstore(
      {"verify", "--store", store(), "--key-file", key_path()});
  EXPECT_EQ(cli.exit_code, MIGSTORE_CORRUPTED_STORE);

  // Restore stops at the first damaged file, or skips them when asked.
  seen = Seen();
  migstore_restore_options ro = RestoreOptions(&seen);
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_STOPPED_ON_ERROR);
  Take(err);
  ASSERT_GE(seen.file_errors.size(), 1u);
  EXPECT_EQ(seen.file_errors[0].second, MIGSTORE_CORRUPTED_STORE);
  seen = Seen();
  ro.continue_on_error = 1;
  migstore_restore_result rr{};
  rr.struct_size = sizeof rr;
  EXPECT_EQ(migstore_restore(&ro, &rr, &err), MIGSTORE_DONE_WITH_ERRORS);
  EXPECT_NE(Take(err).find("skipped"), std::string::npos);
  EXPECT_EQ(rr.files_failed, vr.files_damaged);
  EXPECT_EQ(seen.file_errors.size(), vr.files_damaged);
  EXPECT_TRUE(FindTemporaries(new_root()).empty());
}

// Cancels `run` from another thread once its first progress report is in,
// and holds that report until the flag is up, so the run cannot finish
// before it sees the flag at its next poll.
struct CancelFromAnotherThread {
  migstore_cancel* cancel = migstore_cancel_create();
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  std::thread canceller{[this] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return started; });
    migstore_cancel_request(cancel);
    cv.notify_all();
  }};

  ~CancelFromAnotherThread() {
    {
      std::lock_guard<std::mutex> lock(mu);
      started = true;  // lets the thread end if no report ever came
    }
    cv.notify_all();
    canceller.join();
    migstore_cancel_destroy(cancel);
  }

  // Points a run's callbacks and cancel flag at this.
  template <typename Options>
  void Arm(Options* o) {
    o->on_progress = OnProgress;
    o->on_file_error = nullptr;
    o->user_data = this;
    o->cancel = cancel;
  }

  static void OnProgress(void* user_data, const migstore_progress*) {
    auto* self = static_cast<CancelFromAnotherThread*>(user_data);
    std::unique_lock<std::mutex> lock(self->mu);
    self->started = true;
    self->cv.notify_all();
    self->cv.wait_for(lock, std::chrono::seconds(10), [self] {
      return migstore_cancel_requested(self->cancel);
    });
  }
};

TEST_F(CApiTest, CancelCaptureFromAnotherThread) {
  MakeRoot(old_root(), 600);
  CancelFromAnotherThread c;
  migstore_capture_options co = CaptureOptions(nullptr);
  c.Arm(&co);
  char* err = nullptr;
  EXPECT_EQ(migstore_capture(&co, nullptr, &err), MIGSTORE_CANCELLED);
  EXPECT_NE(Take(err), "");
  EXPECT_TRUE(migstore_cancel_requested(c.cancel));
  EXPECT_FALSE(std::filesystem::exists(store()));  // nothing left behind
  EXPECT_EQ(testing::ListDir(dir_.path()),
            (std::vector<std::string>{"old", "pc42.key"}));
}

TEST_F(CApiTest, CancelRestoreFromAnotherThread) {
  MakeRoot(old_root(), 600);
  Capture();
  CancelFromAnotherThread c;
  migstore_restore_options ro = RestoreOptions(nullptr);
  c.Arm(&ro);
  char* err = nullptr;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_CANCELLED);
  EXPECT_NE(Take(err), "");
  EXPECT_TRUE(FindTemporaries(new_root()).empty());  // nothing half-written
}

}  // namespace
}  // namespace migstore
