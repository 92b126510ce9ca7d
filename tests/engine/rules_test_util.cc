#include "tests/engine/rules_test_util.h"

#include <filesystem>

namespace migstore::testing {

namespace fs = std::filesystem;

void MakeTree(const std::string& root, const std::vector<std::string>& paths) {
  for (const std::string& p : paths) {
    fs::path full = fs::path(root) / p;
    if (!p.empty() && p.back() == '/') {
      fs::create_directories(full);
    } else {
      fs::create_directories(full.parent_path());
      WriteFile(full.string(), "x");
    }
  }
}

void MakeWindowsRoot(const std::string& root,
                     const std::vector<std::string>& users,
                     const std::vector<std::string>& extra) {
  std::vector<std::string> paths = {"Windows/System32/", "Program Files/",
                                    "ProgramData/Microsoft/Windows/Start Menu/",
                                    "Users/Public/Documents/",
                                    "Users/Default/NTUSER.DAT"};
  for (const std::string& u : users) {
    std::string h = "Users/" + u + "/";
    paths.push_back(h + "NTUSER.DAT");
    for (const char* f :
         {"Documents/", "Desktop/", "Downloads/", "Music/", "Pictures/",
          "Videos/", "Favorites/", "AppData/Roaming/", "AppData/Local/"}) {
      paths.push_back(h + f);
    }
  }
  paths.insert(paths.end(), extra.begin(), extra.end());
  MakeTree(root, paths);
}

void MakeLinuxRoot(const std::string& root,
                   const std::vector<std::string>& users,
                   const std::vector<std::string>& extra) {
  std::string passwd =
      "root:x:0:0:root:/root:/bin/bash\n"
      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
  std::vector<std::string> paths = {"root/", "usr/sbin/", "etc/"};
  uint32_t uid = 1000;
  for (const std::string& u : users) {
    passwd += u + ":x:" + std::to_string(uid) + ":" + std::to_string(uid) +
              "::/home/" + u + ":/bin/bash\n";
    ++uid;
    paths.push_back("home/" + u + "/");
  }
  MakeTree(root, paths);
  WriteFile(root + "/etc/passwd", passwd);
  MakeTree(root, extra);
}

Machine Discover(const std::string& root) {
  DiscoverOptions o;
  o.root = root;
  Result<Machine> m = DiscoverMachine(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Machine{};
}

std::vector<UserChoice> AllUsers(const Machine& machine) {
  std::vector<UserChoice> out;
  for (size_t i = 0; i < machine.profiles.size(); ++i)
    out.push_back({i, true, "test"});
  return out;
}

Matcher CompileTexts(
    const Machine& machine,
    const std::vector<std::pair<std::string, std::string>>& texts,
    const std::string& config) {
  RuleSet rules;
  for (const auto& [name, text] : texts) {
    Status s = rules.AddText(name, text);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  if (!config.empty()) {
    Status s = rules.SetConfigText("Config.xml", config);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  Result<Matcher> m = CompileRules(rules, machine, AllUsers(machine));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : Matcher();
}

std::string UsmtComponent(const std::string& name, const std::string& rules_xml,
                          const std::string& context) {
  return "<component type=\"Documents\" context=\"" + context +
         "\"><displayName>" + name +
         "</displayName><role role=\"Data\"><rules>" + rules_xml +
         "</rules></role></component>\n";
}

std::string UsmtMigration(const std::string& components,
                          const std::string& urlid) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<migration urlid=\"" +
         urlid + "\">\n" + components + "</migration>\n";
}

std::string UsmtFile(const std::string& rules_xml, const std::string& context,
                     const std::string& urlid) {
  return UsmtMigration(UsmtComponent("Test", rules_xml, context), urlid);
}

namespace {
std::string Rule(const char* element, const std::string& pattern) {
  return std::string("<") + element + "><objectSet><pattern type=\"File\">" +
         pattern + "</pattern></objectSet></" + element + ">";
}
}  // namespace

std::string Inc(const std::string& pattern) { return Rule("include", pattern); }
std::string Exc(const std::string& pattern) { return Rule("exclude", pattern); }
std::string Uncond(const std::string& pattern) {
  return Rule("unconditionalExclude", pattern);
}

bool TakesFile(const Matcher& m, const std::string& path) {
  return m.Decide(path, EntryKind::kFile).taken;
}
bool TakesDir(const Matcher& m, const std::string& path) {
  return m.Decide(path, EntryKind::kDirectory).taken;
}

std::vector<WalkedEntry> WalkTree(const std::string& root) {
  std::vector<WalkedEntry> out;
  for (auto it = fs::recursive_directory_iterator(root);
       it != fs::recursive_directory_iterator(); ++it) {
    WalkedEntry e;
    e.path = fs::relative(it->path(), root).string();
    e.is_dir = it->is_directory() && !it->is_symlink();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace migstore::testing
