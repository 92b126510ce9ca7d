// The layering rules of docs/design.md ("Layers"), checked on the sources:
// the folders of engine/ include one another without a cycle, format/ knows
// nothing of the engine, and cli/ uses only the public headers. A cycle is
// how "where does this live" questions start (profiles/ and rules/ once
// included each other through case_fold.h); this test names the first cycle
// it finds, file by file.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kSource = MIGSTORE_SOURCE_DIR;

// One `#include "…"` of one file.
struct Include {
  std::string file;  // relative to the source root, e.g. engine/src/rules/x.cc
  std::string target;  // as written, e.g. engine/src/fs/root_fs.h
};

std::vector<Include> QuotedIncludesUnder(const std::string& folder) {
  std::vector<Include> out;
  for (const auto& e : fs::recursive_directory_iterator(kSource / folder)) {
    const std::string ext = e.path().extension().string();
    if (!e.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
    std::ifstream in(e.path());
    std::string line;
    const std::string rel = fs::relative(e.path(), kSource).string();
    while (std::getline(in, line)) {
      const size_t at = line.find_first_not_of(" \t");
      if (at == std::string::npos || line.compare(at, 10, "#include \"") != 0) {
        continue;
      }
      const size_t open = at + 10;
      const size_t close = line.find('"', open);
      if (close == std::string::npos) continue;
      out.push_back({rel, line.substr(open, close - open)});
    }
  }
  return out;
}

// The engine folder a path belongs to: "base" for engine/base/…, the first
// folder below engine/src/ ("rules", "restore", …), "src" for a file directly
// in engine/src/, "" for anything outside the engine's sources.
std::string EngineFolder(const std::string& path) {
  if (path.rfind("engine/base/", 0) == 0) return "base";
  const std::string src = "engine/src/";
  if (path.rfind(src, 0) != 0) return "";
  const size_t slash = path.find('/', src.size());
  return slash == std::string::npos
             ? "src"
             : path.substr(src.size(), slash - src.size());
}

TEST(Layering, EngineFoldersIncludeEachOtherWithoutACycle) {
  // folder -> folder it includes -> one include that shows it.
  std::map<std::string, std::map<std::string, Include>> edges;
  std::vector<Include> all = QuotedIncludesUnder("engine/src");
  const std::vector<Include> base = QuotedIncludesUnder("engine/base");
  all.insert(all.end(), base.begin(), base.end());
  ASSERT_GT(all.size(), 100u)
      << "the engine's sources were not found under " << kSource;
  for (const Include& inc : all) {
    const std::string from = EngineFolder(inc.file);
    const std::string to = EngineFolder(inc.target);
    if (to.empty() || from == to) continue;
    edges[from].emplace(to, inc);
  }

  // Depth-first search; a grey node met again closes a cycle.
  std::map<std::string, int> colour;  // 0 white, 1 grey, 2 black
  std::vector<std::string> stack;
  std::string cycle;
  auto visit = [&](auto&& self, const std::string& node) -> bool {
    colour[node] = 1;
    stack.push_back(node);
    for (const auto& [next, why] : edges[node]) {
      if (colour[next] == 1) {
        auto from = std::find(stack.begin(), stack.end(), next);
        for (auto it = from; it != stack.end(); ++it) {
          const std::string& to = (it + 1 == stack.end()) ? next : *(it + 1);
          const Include& shown = edges[*it].at(to);
          cycle += *it + " -> " + to + " (" + shown.file + " includes " +
                   shown.target + ")\n";
        }
        return true;
      }
      if (colour[next] == 0 && self(self, next)) return true;
    }
    stack.pop_back();
    colour[node] = 2;
    return false;
  };
  for (const auto& [node, unused] : edges) {
    if (colour[node] == 0 && visit(visit, node)) break;
  }
  EXPECT_TRUE(cycle.empty())
      << "engine folders include each other in a cycle:\n"
      << cycle;
}

TEST(Layering, FormatKnowsNothingOfTheEngine) {
  // format/ may use the vocabulary types (Status, Result) and the generic
  // helpers of engine/base/, and nothing else of the engine's.
  const std::set<std::string> allowed = {"migstore/status.h",
                                         "migstore/result.h"};
  for (const Include& inc : QuotedIncludesUnder("format")) {
    const bool engine = inc.target.rfind("engine/", 0) == 0 ||
                        inc.target.rfind("migstore/", 0) == 0;
    const bool base = inc.target.rfind("engine/base/", 0) == 0;
    EXPECT_TRUE(!engine || base || allowed.count(inc.target))
        << inc.file << " includes " << inc.target;
  }
}

TEST(Layering, BaseIsBelowEverything) {
  // engine/base/ holds what every layer may use, format/ included, so it
  // may use only itself and the vocabulary types.
  const std::set<std::string> allowed = {"migstore/status.h",
                                         "migstore/result.h"};
  const std::vector<Include> base = QuotedIncludesUnder("engine/base");
  ASSERT_FALSE(base.empty());
  for (const Include& inc : base) {
    const bool own = inc.target.rfind("engine/base/", 0) == 0;
    EXPECT_TRUE(own || allowed.count(inc.target))
        << inc.file << " includes " << inc.target;
  }
}

TEST(Layering, TheCommandUsesOnlyThePublicHeaders) {
  for (const Include& inc : QuotedIncludesUnder("cli")) {
    const bool own = inc.target.find('/') == std::string::npos;
    const bool public_header = inc.target.rfind("migstore/", 0) == 0;
    EXPECT_TRUE(own || public_header) << inc.file << " includes " << inc.target;
  }
}

}  // namespace
