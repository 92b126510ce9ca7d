// The built-in rule sets: what the linux set takes and leaves on a
// generated home; that both parse; that the windows set is MigUser's
// (stock_xml_test compares them decision for decision).

#include <gtest/gtest.h>

#include "tests/engine/rules_test_util.h"

namespace migstore::testing {
namespace {

class BuiltInLinux : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeLinuxRoot(dir_.path(), {"alice"});
    machine_ = Discover(dir_.path());
    RuleSet rules;
    rules.AddBuiltIn(Layout::kLinux);
    Result<Matcher> m = CompileRules(rules, machine_, AllUsers(machine_));
    ASSERT_OK(m);
    matcher_ = *m;
  }
  bool Takes(const std::string& rel) {
    return TakesFile(matcher_, "home/alice/" + rel);
  }

  TempDir dir_;
  Machine machine_;
  Matcher matcher_;
};

TEST_F(BuiltInLinux, TakesWhatUsersMissAfterAReinstall) {
  for (const char* p : {"Documents/cv.odt",
                        "Desktop/todo.txt",
                        "Downloads/book.pdf",
                        "Pictures/cat.jpg",
                        "Music/song.flac",
                        "Videos/talk.webm",
                        "Templates/letter.ott",
                        "Public/share.txt",
                        ".ssh/id_ed25519",
                        ".ssh/config",
                        ".gnupg/pubring.kbx",
                        ".password-store/mail.gpg",
                        ".bashrc",
                        ".bash_history",
                        ".profile",
                        ".zshrc",
                        ".gitconfig",
                        ".config/git/config",
                        ".config/fish/config.fish",
                        ".vimrc",
                        ".vim/colors/x.vim",
                        ".local/bin/backup.sh",
                        ".local/share/fonts/f.ttf",
                        ".local/share/keyrings/login.keyring",
                        ".local/share/evolution/mail/local/inbox",
                        ".mozilla/firefox/ab.default/places.sqlite",
                        ".thunderbird/xy.default/prefs.js",
                        "Maildir/cur/1700000000.x",
                        ".muttrc",
                        ".var/app/org.mozilla.firefox/config/x",
                        ".var/app/org.gnome.Maps/data/y",
                        "snap/firefox/common/.mozilla/firefox/p/prefs.js"}) {
    EXPECT_TRUE(Takes(p)) << p;
  }
}

TEST_F(BuiltInLinux, LeavesCachesTrashThumbnailsAndBuildJunk) {
  for (const char* p :
       {".cache/pip/x", ".cache/thumbnails/normal/a.png",
        ".thumbnails/normal/b.png", ".local/share/Trash/files/old.txt",
        ".local/share/Trash/info/old.txt.trashinfo",
        ".config/google-chrome/Default/Cache/Cache_Data/data_0",
        ".config/google-chrome/Default/Code Cache/js/x",
        ".config/Code/GPUCache/data_1", ".config/chromium/SingletonLock",
        ".config/Slack/Service Worker/CacheStorage/a",
        ".mozilla/firefox/ab.default/cache2/entries/E1",
        ".mozilla/firefox/ab.default/.parentlock",
        ".local/share/Steam/steamapps/common/game.bin",
        ".local/share/flatpak/app/x",
        "Documents/web/node_modules/left-pad/index.js",
        "Documents/py/__pycache__/m.cpython.pyc", "Documents/py/mod.pyc",
        "Documents/py/.venv/bin/python", "Documents/c/build/main.o",
        "Documents/c/build/CMakeFiles/x.dir/y",
        ".var/app/org.mozilla.firefox/cache/z",
        // Not in the set at all: project folders outside the known ones.
        "projects/code.c", ".xsession-errors"}) {
    EXPECT_FALSE(Takes(p)) << p;
  }
  EXPECT_FALSE(matcher_.MayTakeBelow("home/alice/.cache"));
  EXPECT_FALSE(matcher_.MayTakeBelow("home/alice/Documents/web/node_modules"));
  EXPECT_FALSE(
      matcher_.MayTakeBelow("home/alice/.config/google-chrome/Default/Cache"));
  EXPECT_FALSE(matcher_.MayTakeBelow("home/alice/.local/share/Trash"));
  EXPECT_TRUE(matcher_.MayTakeBelow("home/alice/.config"));
}

TEST_F(BuiltInLinux, NothingOutsideProfiles) {
  EXPECT_FALSE(TakesFile(matcher_, "etc/passwd"));
  EXPECT_FALSE(matcher_.MayTakeBelow("usr"));
  EXPECT_FALSE(matcher_.MayTakeBelow("etc"));
  EXPECT_TRUE(matcher_.MayTakeBelow("home"));
}

TEST(BuiltInRules, BothParseWithoutDiagnostics) {
  for (Layout layout : {Layout::kLinux, Layout::kWindows}) {
    RuleSet rules;
    rules.AddBuiltIn(layout);
    EXPECT_FALSE(rules.empty());
    EXPECT_TRUE(rules.diagnostics().empty());
    EXPECT_NE(BuiltInRulesText(layout).find("include"), std::string_view::npos);
  }
}

TEST(BuiltInRules, WindowsSetLeavesDownloadsAsMigUserDoes) {
  TempDir dir;
  MakeWindowsRoot(dir.path(), {"alice"}, {"Users/alice/Downloads/a.txt"});
  Machine m = Discover(dir.path());
  RuleSet rules;
  rules.AddBuiltIn(Layout::kWindows);
  Result<Matcher> matcher = CompileRules(rules, m, AllUsers(m));
  ASSERT_OK(matcher);
  EXPECT_FALSE(TakesFile(*matcher, "Users/alice/Downloads/a.txt"));
  EXPECT_TRUE(TakesFile(*matcher, "Users/alice/Documents/a.txt"));
}

TEST(CompileRules, AnEmptyRuleSetIsRefused) {
  TempDir dir;
  MakeLinuxRoot(dir.path(), {"alice"});
  Machine m = Discover(dir.path());
  EXPECT_TRUE(
      CompileRules(RuleSet(), m, AllUsers(m)).status().IsInvalidArgument());
  Matcher none;
  EXPECT_FALSE(TakesFile(none, "home/alice/x"));
  EXPECT_FALSE(none.MayTakeBelow(""));
}

}  // namespace
}  // namespace migstore::testing
