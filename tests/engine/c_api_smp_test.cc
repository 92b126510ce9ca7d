// The C API's state migration point (migstore_smp_* in migstore/migstore.h)
// through the shared library, against a real `migstore serve` on loopback
// (SmpTestServer): connecting (bad addresses, token files and buffers, the
// buffer zeroed, the struct_size rule), the administrator enrolling and
// associating computers, a capture on the old computer and a restore on the
// associated new one with the same options, callbacks and result structs as
// migstore_capture and migstore_restore, the release, the listing's JSON
// (the command's, byte for byte), a recovered key that opens the store in a
// plain migstore_restore, deletion, the settings, and the refusals: a
// computer that is not associated, options the server owns, a computer
// acting as the administrator.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "migstore/migstore.h"
#include "tests/util/smp_server.h"
#include "tests/util/test_util.h"
#include "tests/util/tree_compare.h"

namespace migstore::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A C string the test owns; frees what the library returned.
std::string Take(char* text) {
  std::string s = text != nullptr ? text : "";
  migstore_free(text);
  return s;
}

// A secret the library returned (a token), released as the header asks.
std::string TakeSecret(char* secret) {
  std::string s = secret != nullptr ? secret : "";
  migstore_free_secret(secret);
  return s;
}

// A state migration point handle that destroys itself.
struct Smp {
  migstore_smp* smp = nullptr;
  ~Smp() { migstore_smp_destroy(smp); }
};

// A struct as a caller built against a newer header passes it: the fields
// this library knows, then one it does not.
template <typename T>
struct Newer {
  T v1;
  uint64_t later_field;
};

template <typename T>
Newer<T> NewerOf(const T& v1, uint64_t later_field) {
  Newer<T> n{};
  n.v1 = v1;
  n.v1.struct_size = sizeof n;
  n.later_field = later_field;
  return n;
}

bool AllZero(const std::string& bytes) {
  return bytes.find_first_not_of('\0') == std::string::npos;
}

// A linux root with alice and bob, each with a few files.
void MakeRoot(const std::string& root) {
  fs::create_directories(root + "/etc");
  WriteFile(root + "/etc/passwd",
            "alice:x:1000:1000::/home/alice:/bin/sh\n"
            "bob:x:1001:1001::/home/bob:/bin/sh\n");
  for (const char* user : {"alice", "bob"}) {
    const std::string home = root + "/home/" + user;
    fs::create_directories(home + "/Documents/notes");
    WriteFile(home + "/Documents/report.txt",
              std::string(user) + "'s report\n");
    WriteFile(home + "/Documents/notes/todo.txt",
              "migrate " + std::string(user));
    WriteFile(home + "/.profile", "export EDITOR=vi\n");
  }
}

// What the callbacks saw.
struct Seen {
  int progress_calls = 0;
  std::string last_phase;
  int file_errors = 0;
};

void OnProgress(void* user_data, const migstore_progress* p) {
  auto* seen = static_cast<Seen*>(user_data);
  ++seen->progress_calls;
  seen->last_phase = p->phase;
}

void OnFileError(void* user_data, const char*, int, const char*) {
  ++static_cast<Seen*>(user_data)->file_errors;
}

class CApiSmpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeRoot(root_);
    WriteFile(rules_, "include %USERPROFILE%\n");
    server_ = std::make_unique<SmpTestServer>(dir_ / "smp");
    ASSERT_TRUE(server_->Start()) << server_->error();
    url_ = server_->url();
    ASSERT_EQ(ConnectFile(server_->admin_token_file(), &admin_.smp),
              MIGSTORE_OK)
        << last_error_;
  }

  // Options without a token; retries off, so a refusal comes at once.
  migstore_smp_options SmpOptions() const {
    migstore_smp_options o{};
    o.struct_size = sizeof o;
    o.server = url_.c_str();
    o.retry_count = -1;
    o.retry_delay_seconds = -1;
    return o;
  }

  // migstore_smp_connect's code; its message in last_error_.
  int Connect(const migstore_smp_options& o, migstore_smp** smp) {
    char* err = nullptr;
    const int code = migstore_smp_connect(&o, smp, &err);
    last_error_ = Take(err);
    return code;
  }

  int ConnectFile(const std::string& token_file, migstore_smp** smp) {
    migstore_smp_options o = SmpOptions();
    o.token_file = token_file.c_str();
    return Connect(o, smp);
  }

  // With the token in a buffer, which must be zeroed whatever the code.
  int ConnectBuffer(std::string token, migstore_smp** smp) {
    migstore_smp_options o = SmpOptions();
    o.token = token.data();
    o.token_size = token.size();
    const int code = Connect(o, smp);
    EXPECT_TRUE(AllZero(token)) << "the token buffer is zeroed";
    return code;
  }

  // Enrolls `computer` through the C API; its token in a 0600 file.
  std::string Enroll(const std::string& computer) {
    char* token = nullptr;
    char* err = nullptr;
    EXPECT_EQ(migstore_smp_enroll(admin_.smp, computer.c_str(), &token, &err),
              MIGSTORE_OK)
        << Take(err);
    const std::string path = dir_ / (computer + ".token");
    WriteFile(path, TakeSecret(token) + "\n");
    ::chmod(path.c_str(), 0600);
    return path;
  }

  void Associate(const std::string& source, const std::string& destination,
                 std::vector<const char*> users = {}) {
    char* err = nullptr;
    ASSERT_EQ(
        migstore_smp_associate(admin_.smp, source.c_str(), destination.c_str(),
                               users.data(), users.size(), &err),
        MIGSTORE_OK)
        << Take(err);
  }

  migstore_capture_options CaptureOptions(Seen* seen) const {
    migstore_capture_options o{};
    o.struct_size = sizeof o;
    o.root = root_.c_str();
    o.rules_files = &rules_c_;
    o.rules_files_count = 1;
    o.threads = 2;
    o.on_progress = OnProgress;
    o.on_file_error = OnFileError;
    o.user_data = seen;
    return o;
  }

  migstore_restore_options RestoreOptions(const std::string& target,
                                          Seen* seen) const {
    migstore_restore_options o{};
    o.struct_size = sizeof o;
    o.target = target.c_str();
    o.threads = 2;
    o.on_progress = OnProgress;
    o.on_file_error = OnFileError;
    o.user_data = seen;
    return o;
  }

  // A capture on `smp` that must succeed; the store's id.
  std::string Capture(migstore_smp* smp) {
    Seen seen;
    migstore_capture_options o = CaptureOptions(&seen);
    char* id = nullptr;
    char* err = nullptr;
    EXPECT_EQ(migstore_smp_capture(smp, &o, nullptr, &id, &err), MIGSTORE_OK)
        << Take(err) << server_->output();
    return Take(id);
  }

  // The listing `smp` sees, parsed.
  json List(migstore_smp* smp) {
    char* text = nullptr;
    char* err = nullptr;
    EXPECT_EQ(migstore_smp_list(smp, &text, &err), MIGSTORE_OK) << Take(err);
    const std::string s = Take(text);
    json j = json::parse(s, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << s;
    return j;
  }

  // The state of store `id` in `listing`; "" when it is not there.
  static std::string StateOf(const json& listing, const std::string& id) {
    for (const json& s : listing.value("stores", json::array())) {
      if (s.value("id", "") == id) return s.value("state", "");
    }
    return "";
  }

  TempDir dir_;
  std::string root_ = dir_ / "old";
  std::string rules_ = dir_ / "all.rules";
  const char* rules_c_ = rules_.c_str();
  std::unique_ptr<SmpTestServer> server_;
  std::string url_;
  Smp admin_;
  std::string last_error_;
};

TEST_F(CApiSmpTest, ConnectRefusesBadAddressesAndTokenSources) {
  migstore_smp* smp = reinterpret_cast<migstore_smp*>(1);  // overwritten
  char* err = nullptr;
  EXPECT_EQ(migstore_smp_connect(nullptr, &smp, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_EQ(smp, nullptr);
  Take(err);

  // Addresses: not http(s), plain http off loopback, none.
  const std::string token_file = server_->admin_token_file();
  for (const char* bad :
       {"ftp://127.0.0.1:1", "http://smp.example.org:8080", "127.0.0.1", ""}) {
    migstore_smp_options o = SmpOptions();
    o.server = bad;
    o.token_file = token_file.c_str();
    EXPECT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_INVALID_ARGUMENTS)
        << bad;
    EXPECT_EQ(smp, nullptr);
    EXPECT_NE(err, nullptr) << bad;
    Take(err);
  }

  // A token file that is not there: the key-unreadable code, naming it.
  EXPECT_EQ(ConnectFile(dir_ / "no-such.token", &smp), MIGSTORE_KEY_UNREADABLE);
  EXPECT_TRUE(Has(last_error_, "no-such.token")) << last_error_;
  // An empty one.
  WriteFile(dir_ / "empty.token", "\n");
  EXPECT_EQ(ConnectFile(dir_ / "empty.token", &smp), MIGSTORE_KEY_UNREADABLE);

  // No token, and two.
  migstore_smp_options o = SmpOptions();
  EXPECT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "one of the two"));
  std::string buffer = "mst1_0123";
  o.token_file = token_file.c_str();
  o.token = buffer.data();
  o.token_size = buffer.size();
  EXPECT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_TRUE(AllZero(buffer)) << "zeroed on failure too";

  // A token with a space is refused without being repeated; its buffer is
  // zeroed all the same (ConnectBuffer checks), as when the out-pointer is
  // missing.
  EXPECT_EQ(ConnectBuffer("secret words", &smp), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_FALSE(Has(last_error_, "secret")) << last_error_;
  EXPECT_EQ(ConnectBuffer("mst1_0123", nullptr), MIGSTORE_INVALID_ARGUMENTS);

  // A token the server does not know connects (the server is not asked)
  // and is refused by the first call.
  Smp stranger;
  ASSERT_EQ(ConnectBuffer("mst1_" + std::string(64, '0'), &stranger.smp),
            MIGSTORE_OK)
      << last_error_;
  char* text = reinterpret_cast<char*>(1);
  EXPECT_EQ(migstore_smp_list(stranger.smp, &text, &err),
            MIGSTORE_INVALID_STORE);
  EXPECT_EQ(text, nullptr);
  const std::string refused = Take(err);
  EXPECT_TRUE(Has(refused, "token")) << refused;
  EXPECT_FALSE(Has(refused, std::string(64, '0'))) << refused;

  // A NULL handle.
  EXPECT_EQ(migstore_smp_release(nullptr, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
}

TEST_F(CApiSmpTest, ATokenFileOthersCanReadIsUsedWithAWarning) {
  EXPECT_EQ(migstore_smp_warning(admin_.smp), nullptr);
  EXPECT_EQ(migstore_smp_warning(nullptr), nullptr);
  const std::string loose = dir_ / "loose.token";
  fs::copy_file(server_->admin_token_file(), loose);
  ::chmod(loose.c_str(), 0644);
  Smp smp;
  ASSERT_EQ(ConnectFile(loose, &smp.smp), MIGSTORE_OK) << last_error_;
  ASSERT_NE(migstore_smp_warning(smp.smp), nullptr);
  EXPECT_TRUE(Has(migstore_smp_warning(smp.smp), "too open"))
      << migstore_smp_warning(smp.smp);
  List(smp.smp);
}

TEST_F(CApiSmpTest, OptionsStructSizeRule) {
  const std::string token = server_->admin_token_file();
  migstore_smp_options o = SmpOptions();
  o.token_file = token.c_str();
  migstore_smp* smp = nullptr;
  char* err = nullptr;
  o.struct_size = 0;
  EXPECT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "struct_size"));
  const size_t v1_end = offsetof(migstore_smp_options, retry_delay_seconds) +
                        sizeof(migstore_smp_options::retry_delay_seconds);
  o.struct_size = v1_end - 1;
  EXPECT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  o.struct_size = v1_end;
  ASSERT_EQ(migstore_smp_connect(&o, &smp, &err), MIGSTORE_OK) << Take(err);
  migstore_smp_destroy(smp);

  // A caller built against a newer header: unknown fields left zero work;
  // set, they are refused (and a token buffer is zeroed even so).
  Newer<migstore_smp_options> newer = NewerOf(o, 0);
  ASSERT_EQ(migstore_smp_connect(&newer.v1, &smp, &err), MIGSTORE_OK)
      << Take(err);
  migstore_smp_destroy(smp);
  std::string buffer = "mst1_0123456789";
  newer.v1.token_file = nullptr;
  newer.v1.token = buffer.data();
  newer.v1.token_size = buffer.size();
  newer.later_field = 1;
  EXPECT_EQ(migstore_smp_connect(&newer.v1, &smp, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "does not know"));
  EXPECT_EQ(smp, nullptr);
  EXPECT_TRUE(AllZero(buffer));

  // The step's structs follow migstore_capture's rule: a result too small
  // is refused before the server is asked for anything.
  Smp pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-S"), &pc.smp), MIGSTORE_OK) << last_error_;
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  migstore_capture_result small{};
  small.struct_size = sizeof(size_t);
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, &small, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  Newer<migstore_capture_options> newer_capture = NewerOf(co, 1);
  EXPECT_EQ(
      migstore_smp_capture(pc.smp, &newer_capture.v1, nullptr, nullptr, &err),
      MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "does not know"));
  EXPECT_TRUE(List(admin_.smp)["stores"].empty());
}

TEST_F(CApiSmpTest, StepOptionsTheServerOwnsAreRefused) {
  Smp pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-O"), &pc.smp), MIGSTORE_OK) << last_error_;
  migstore_key* key = nullptr;
  char* err = nullptr;
  const std::string key_file = dir_ / "k.key";
  ASSERT_EQ(migstore_keygen(key_file.c_str(), 0, &err), MIGSTORE_OK);
  ASSERT_EQ(migstore_key_from_key_file(key_file.c_str(), &key, &err),
            MIGSTORE_OK);
  const std::string store = dir_ / "s.mig";

  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  co.store_path = store.c_str();
  char* id = reinterpret_cast<char*>(1);
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, &id, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_EQ(id, nullptr);
  EXPECT_TRUE(Has(Take(err), "store_path"));
  co = CaptureOptions(&seen);
  co.key = key;
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  co = CaptureOptions(&seen);
  co.no_encrypt = 1;
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  co = CaptureOptions(&seen);
  co.hardlink = 1;
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "hard-link"));
  co = CaptureOptions(&seen);
  co.base_store = store.c_str();
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_TRUE(Has(Take(err), "base_store"));
  // Nothing was requested from the server.
  EXPECT_TRUE(List(admin_.smp)["stores"].empty());
  EXPECT_FALSE(fs::exists(store));

  const std::string target = dir_ / "t";
  migstore_restore_options ro = RestoreOptions(target, &seen);
  ro.store_path = store.c_str();
  EXPECT_EQ(migstore_smp_restore(pc.smp, &ro, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  ro = RestoreOptions(target, &seen);
  ro.key = key;
  EXPECT_EQ(migstore_smp_restore(pc.smp, &ro, nullptr, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_FALSE(fs::exists(target));
  migstore_key_destroy(key);
}

TEST_F(CApiSmpTest, CaptureOnTheOldComputerRestoreOnTheNewOneRelease) {
  // The administrator enrolls both computers; the new one takes its token
  // from a buffer, which the library zeroes.
  Smp old_pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-OLD"), &old_pc.smp), MIGSTORE_OK)
      << last_error_;
  char* made = nullptr;
  char* err = nullptr;
  ASSERT_EQ(migstore_smp_enroll(admin_.smp, "PC-NEW", &made, &err), MIGSTORE_OK)
      << Take(err);
  const std::string new_token = TakeSecret(made);
  EXPECT_GE(new_token.size(), 64u);
  Smp new_pc;
  ASSERT_EQ(ConnectBuffer(new_token, &new_pc.smp), MIGSTORE_OK) << last_error_;
  // The association names alice alone: bob stays behind.
  Associate("PC-OLD", "PC-NEW", {"alice"});

  // The capture: migstore_capture's options, callbacks and result.
  Seen captured;
  migstore_capture_options co = CaptureOptions(&captured);
  migstore_capture_result cr{};
  cr.struct_size = sizeof cr;
  char* id = nullptr;
  err = reinterpret_cast<char*>(1);  // must be overwritten
  ASSERT_EQ(migstore_smp_capture(old_pc.smp, &co, &cr, &id, &err), MIGSTORE_OK)
      << Take(err) << server_->output();
  EXPECT_EQ(err, nullptr);
  const std::string store_id = Take(id);
  EXPECT_EQ(store_id.size(), 32u);
  EXPECT_EQ(store_id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(cr.files, 3u);
  EXPECT_EQ(cr.users_selected, 1u);
  EXPECT_GT(cr.store_size, 0u);
  EXPECT_GT(captured.progress_calls, 0);
  EXPECT_EQ(captured.last_phase, "Done");
  EXPECT_EQ(captured.file_errors, 0);

  // The listing shows the store ready for PC-NEW, with its users.
  json listing = List(admin_.smp);
  ASSERT_EQ(listing["stores"].size(), 1u) << listing.dump();
  const json& st = listing["stores"][0];
  EXPECT_EQ(st["id"], store_id);
  EXPECT_EQ(st["state"], "ready");
  EXPECT_EQ(st["source"], "PC-OLD");
  EXPECT_EQ(st["destination"], "PC-NEW");
  EXPECT_EQ(st["users"], json::array({"alice"}));
  EXPECT_EQ(st["size"].get<uint64_t>(), cr.store_size);
  EXPECT_GT(st["captured_at"].get<int64_t>(), 0);
  ASSERT_EQ(listing["associations"].size(), 1u);
  EXPECT_EQ(listing["associations"][0]["source"], "PC-OLD");
  EXPECT_EQ(listing["retention_minutes"], 1440);
  EXPECT_EQ(listing["restore_only"], false);

  // The restore on the new computer.
  const std::string target = dir_ / "new";
  Seen restored;
  migstore_restore_options ro = RestoreOptions(target, &restored);
  migstore_restore_result rr{};
  rr.struct_size = sizeof rr;
  ASSERT_EQ(migstore_smp_restore(new_pc.smp, &ro, &rr, &id, &err), MIGSTORE_OK)
      << Take(err) << server_->output();
  EXPECT_EQ(Take(id), store_id);
  EXPECT_EQ(rr.files, 3u);
  EXPECT_EQ(rr.bytes, cr.bytes);
  EXPECT_GT(restored.progress_calls, 0);
  EXPECT_EQ(CompareTrees(root_ + "/home/alice", target + "/home/alice"), "");
  EXPECT_FALSE(fs::exists(target + "/home/bob"));
  EXPECT_EQ(StateOf(List(new_pc.smp), store_id), "restored");
  // A restore may run again until the release.
  ASSERT_EQ(migstore_smp_restore(new_pc.smp, &ro, &rr, nullptr, &err),
            MIGSTORE_OK)
      << Take(err);
  EXPECT_GE(rr.identical, 3u);

  // Release State Store: released, and no more restores.
  ASSERT_EQ(migstore_smp_release(new_pc.smp, &err), MIGSTORE_OK) << Take(err);
  listing = List(admin_.smp);
  EXPECT_EQ(StateOf(listing, store_id), "released");
  EXPECT_GT(listing["stores"][0]["delete_after"].get<int64_t>(), 0);
  const std::string late = dir_ / "late";
  ro = RestoreOptions(late, &restored);
  rr.files = 99;
  EXPECT_EQ(migstore_smp_restore(new_pc.smp, &ro, &rr, &id, &err),
            MIGSTORE_INVALID_STORE);
  EXPECT_EQ(id, nullptr);
  EXPECT_EQ(rr.files, 0u) << "zeroed on failure";
  Take(err);
  EXPECT_FALSE(fs::exists(late));
  EXPECT_EQ(migstore_smp_release(new_pc.smp, &err), MIGSTORE_INVALID_STORE);
  Take(err);
}

TEST_F(CApiSmpTest, AComputerThatIsNotAssociatedIsRefused) {
  Smp old_pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-OLD"), &old_pc.smp), MIGSTORE_OK);
  Enroll("PC-NEW");
  Smp other;
  ASSERT_EQ(ConnectFile(Enroll("PC-OTHER"), &other.smp), MIGSTORE_OK);
  Associate("PC-OLD", "PC-NEW");
  ASSERT_FALSE(Capture(old_pc.smp).empty());

  const std::string target = dir_ / "t";
  Seen seen;
  migstore_restore_options ro = RestoreOptions(target, &seen);
  char* id = reinterpret_cast<char*>(1);
  char* err = nullptr;
  EXPECT_EQ(migstore_smp_restore(other.smp, &ro, nullptr, &id, &err),
            MIGSTORE_INVALID_STORE);
  EXPECT_EQ(id, nullptr);
  EXPECT_NE(Take(err), "");
  EXPECT_FALSE(fs::exists(target + "/home"));
  // Nor may the old computer read its released store back.
  EXPECT_EQ(migstore_smp_restore(old_pc.smp, &ro, nullptr, nullptr, &err),
            MIGSTORE_INVALID_STORE);
  Take(err);

  // A computer is not the administrator, and sees only its own stores.
  char* token = reinterpret_cast<char*>(1);
  EXPECT_EQ(migstore_smp_enroll(other.smp, "PC-EVIL", &token, &err),
            MIGSTORE_INVALID_STORE);
  EXPECT_EQ(token, nullptr);
  Take(err);
  EXPECT_EQ(
      migstore_smp_associate(other.smp, "PC-OLD", "PC-OTHER", nullptr, 0, &err),
      MIGSTORE_INVALID_STORE);
  Take(err);
  EXPECT_EQ(migstore_smp_set_restore_only(other.smp, 1, &err),
            MIGSTORE_INVALID_STORE);
  Take(err);
  EXPECT_TRUE(List(other.smp)["stores"].empty());
  EXPECT_EQ(List(old_pc.smp)["stores"].size(), 1u);
}

TEST_F(CApiSmpTest, ARecoveredKeyOpensTheStoreInAPlainRestore) {
  Smp pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-K"), &pc.smp), MIGSTORE_OK);
  const std::string id = Capture(pc.smp);
  ASSERT_EQ(id.size(), 32u);

  const std::string key_file = dir_ / "recovered.key";
  char* err = nullptr;
  // Not for a computer, nor for something that is not a store id.
  EXPECT_EQ(
      migstore_smp_recover_key(pc.smp, id.c_str(), key_file.c_str(), 0, &err),
      MIGSTORE_INVALID_STORE);
  Take(err);
  EXPECT_EQ(
      migstore_smp_recover_key(admin_.smp, "nothex", key_file.c_str(), 0, &err),
      MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_EQ(migstore_smp_recover_key(admin_.smp, id.c_str(), nullptr, 0, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_FALSE(fs::exists(key_file));

  ASSERT_EQ(migstore_smp_recover_key(admin_.smp, id.c_str(), key_file.c_str(),
                                     0, &err),
            MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(fs::status(key_file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // An existing file is kept unless overwrite says otherwise.
  EXPECT_EQ(migstore_smp_recover_key(admin_.smp, id.c_str(), key_file.c_str(),
                                     0, &err),
            MIGSTORE_INVALID_STORE);
  Take(err);
  ASSERT_EQ(migstore_smp_recover_key(admin_.smp, id.c_str(), key_file.c_str(),
                                     1, &err),
            MIGSTORE_OK)
      << Take(err);

  // The key file opens the store file in the server's storage folder.
  migstore_key* key = nullptr;
  ASSERT_EQ(migstore_key_from_key_file(key_file.c_str(), &key, &err),
            MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(migstore_key_warning(key), nullptr);
  const std::string store = server_->storage_dir() + "/" + id + ".mig";
  const std::string target = dir_ / "manual";
  Seen seen;
  migstore_restore_options ro = RestoreOptions(target, &seen);
  ro.store_path = store.c_str();
  ro.key = key;
  EXPECT_EQ(migstore_restore(&ro, nullptr, &err), MIGSTORE_OK) << Take(err);
  migstore_key_destroy(key);
  for (const char* user : {"alice", "bob"}) {
    EXPECT_EQ(CompareTrees(root_ + "/home/" + user,
                           target + "/home/" + std::string(user)),
              "");
  }

  // The administrator deletes it: gone from the storage folder.
  ASSERT_EQ(migstore_smp_delete(admin_.smp, id.c_str(), &err), MIGSTORE_OK)
      << Take(err);
  EXPECT_FALSE(fs::exists(store));
  EXPECT_EQ(StateOf(List(admin_.smp), id), "deleted");
  EXPECT_EQ(migstore_smp_delete(admin_.smp, id.c_str(), &err), MIGSTORE_OK)
      << "deleting a deleted store is a no-op: " << Take(err);
  EXPECT_EQ(migstore_smp_delete(admin_.smp, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
}

TEST_F(CApiSmpTest, RestoreOnlyRetentionAndUnassociate) {
  Smp pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-R"), &pc.smp), MIGSTORE_OK);
  Enroll("PC-T");
  char* err = nullptr;
  ASSERT_EQ(migstore_smp_set_retention(admin_.smp, 5, &err), MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(migstore_smp_set_retention(admin_.smp, -1, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  ASSERT_EQ(migstore_smp_set_restore_only(admin_.smp, 1, &err), MIGSTORE_OK)
      << Take(err);
  ASSERT_EQ(migstore_smp_set_abandon_after(admin_.smp, 90, &err), MIGSTORE_OK)
      << Take(err);
  EXPECT_EQ(migstore_smp_set_abandon_after(admin_.smp, -1, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  json listing = List(admin_.smp);
  EXPECT_EQ(listing["retention_minutes"], 5);
  EXPECT_EQ(listing["restore_only"], true);
  EXPECT_EQ(listing["abandon_after_minutes"], 90);

  // Restore-only: a capture is refused (and not retried).
  Seen seen;
  migstore_capture_options co = CaptureOptions(&seen);
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_INVALID_STORE);
  EXPECT_TRUE(Has(Take(err), "restore-only"));
  ASSERT_EQ(migstore_smp_set_restore_only(admin_.smp, 0, &err), MIGSTORE_OK)
      << Take(err);

  // A cancelled capture returns 2 and leaves the store unreleased; the
  // next capture starts the upload over and goes through.
  migstore_cancel* cancel = migstore_cancel_create();
  migstore_cancel_request(cancel);
  co.cancel = cancel;
  EXPECT_EQ(migstore_smp_capture(pc.smp, &co, nullptr, nullptr, &err),
            MIGSTORE_CANCELLED);
  Take(err);
  migstore_cancel_destroy(cancel);
  listing = List(admin_.smp);
  ASSERT_EQ(listing["stores"].size(), 1u);
  EXPECT_NE(listing["stores"][0]["state"], "ready");
  const std::string id = Capture(pc.smp);
  EXPECT_EQ(id, listing["stores"][0]["id"]);
  EXPECT_EQ(StateOf(List(admin_.smp), id), "ready");

  Associate("PC-R", "PC-T");
  EXPECT_EQ(List(admin_.smp)["associations"].size(), 1u);
  EXPECT_EQ(
      migstore_smp_associate(admin_.smp, "PC-R", "PC-R", nullptr, 0, &err),
      MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  EXPECT_EQ(
      migstore_smp_associate(admin_.smp, "PC-R", "PC-NOBODY", nullptr, 0, &err),
      MIGSTORE_INVALID_STORE);
  Take(err);
  const char* users[] = {"alice", nullptr};
  EXPECT_EQ(migstore_smp_associate(admin_.smp, "PC-R", "PC-T", users, 2, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  ASSERT_EQ(migstore_smp_unassociate(admin_.smp, "PC-R", &err), MIGSTORE_OK)
      << Take(err);
  EXPECT_TRUE(List(admin_.smp)["associations"].empty());
  EXPECT_EQ(migstore_smp_unassociate(admin_.smp, "PC-R", &err),
            MIGSTORE_INVALID_STORE);
  Take(err);
  EXPECT_EQ(migstore_smp_enroll(admin_.smp, "bad name", nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
  char* token = nullptr;
  EXPECT_EQ(migstore_smp_enroll(admin_.smp, "bad name", &token, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  EXPECT_EQ(token, nullptr);
  Take(err);
}

// migstore_smp_list's JSON is the command's `smp list --json`, byte for
// byte (but the line ending), names shown the same way.
TEST_F(CApiSmpTest, ListJsonIsTheCommands) {
  Smp pc;
  ASSERT_EQ(ConnectFile(Enroll("PC-J"), &pc.smp), MIGSTORE_OK);
  Enroll("PC-K");
  Associate("PC-J", "PC-K", {"alice", "tab\there", "DOM\\user", "caf\xc3\xa9"});
  ASSERT_FALSE(Capture(pc.smp).empty());
  char* text = nullptr;
  char* err = nullptr;
  ASSERT_EQ(migstore_smp_list(admin_.smp, &text, &err), MIGSTORE_OK)
      << Take(err);
  const std::string mine = Take(text);
  RunResult cli = RunMigstore({"smp", "--server", url_, "--token-file",
                               server_->admin_token_file(), "list", "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(cli.out, mine + "\n");
  const json j = json::parse(mine);
  EXPECT_EQ(
      j["associations"][0]["users"],
      json::array({"alice", "tab\\x09here", "DOM\\\\user", "caf\xc3\xa9"}));
  // A NULL out-pointer is refused before the server is asked.
  EXPECT_EQ(migstore_smp_list(admin_.smp, nullptr, &err),
            MIGSTORE_INVALID_ARGUMENTS);
  Take(err);
}

}  // namespace
}  // namespace migstore::testing
