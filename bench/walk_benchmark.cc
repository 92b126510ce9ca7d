// The walk: entries per second through capture::Walk (directory reads,
// statx, the compiled rules, xattrs, the merge and sort) on a generated tree
// of the "files" mix, with the built-in rules and with "take everything",
// on 1 and 2 threads; against a plain serial loop of readdir + statx over
// the same tree — the system calls any walk must make, and nothing else.
// The tree (20k files in 4 profiles) is made once per process in $TMPDIR
// and stays in the page cache, so this measures the walk, not the disk.

#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <oneapi/tbb/task_arena.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "engine/src/capture/walk.h"
#include "migstore/matcher.h"
#include "migstore/profiles.h"
#include "migstore/rules.h"
#include "migstore/user_selection.h"

namespace migstore::capture {
namespace {

// Never destroyed: the exit handler that removes the tree runs after the
// static destructors of objects constructed after it registered, and would
// otherwise read a destroyed string (and leave the tree behind).
const std::string& Tree() {
  static const std::string* const root = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/migstore-walk-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) std::abort();
    bench::DatasetSpec spec;
    if (!bench::SpecForPreset("files", &spec).ok()) std::abort();
    spec.files = 20000;
    spec.bytes = spec.files * 100;
    if (!bench::GenerateDataset(dir + "/root", spec).ok()) std::abort();
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(Tree()).parent_path(),
                                  ec);
    });
    return new std::string(dir + "/root");
  }();
  return *root;
}

struct Setup {
  Machine machine;
  Matcher matcher;
};

Setup Prepare(bool builtin) {
  DiscoverOptions d;
  d.root = Tree();
  Result<Machine> machine = DiscoverMachine(d);
  if (!machine.ok()) std::abort();
  std::vector<UserChoice> users;
  for (size_t i = 0; i < machine->profiles.size(); ++i)
    users.push_back({i, true, "bench"});
  RuleSet rules;
  if (builtin) {
    rules.AddBuiltIn(machine->layout);
  } else if (!rules.AddText("all.rules", "include %USERPROFILE%\n").ok()) {
    std::abort();
  }
  Result<Matcher> matcher = CompileRules(rules, *machine, users);
  if (!matcher.ok()) std::abort();
  return {std::move(machine).value(), std::move(matcher).value()};
}

void WalkWith(benchmark::State& state, bool builtin) {
  const Setup setup = Prepare(builtin);
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  WalkOptions o;
  o.root = Tree();
  o.machine = &setup.machine;
  o.matcher = &setup.matcher;
  size_t entries = 0;
  for (auto _ : state) {
    arena.execute([&] {
      Result<WalkResult> r = Walk(o);
      if (!r.ok()) std::abort();
      entries = r->entries.count();
      benchmark::DoNotOptimize(r->entries.count());
    });
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["entries"] = static_cast<double>(entries);
}

void BM_WalkBuiltInRules(benchmark::State& state) { WalkWith(state, true); }
void BM_WalkEverything(benchmark::State& state) { WalkWith(state, false); }
BENCHMARK(BM_WalkBuiltInRules)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_WalkEverything)->Arg(1)->Arg(2)->UseRealTime();

// readdir + statx of everything below `dir_fd`, serially: the floor; with
// `xattrs`, also the extended-attribute listing the walk makes per file
// (through /proc/self/fd, as the walk does: no path from the root again).
size_t PlainWalk(int dir_fd, bool xattrs) {
  DIR* dir = ::fdopendir(dir_fd);
  if (dir == nullptr) std::abort();
  size_t n = 0;
  while (const dirent* d = ::readdir(dir)) {
    if (d->d_name[0] == '.' &&
        (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0')))
      continue;
    struct statx sx;
    if (::statx(::dirfd(dir), d->d_name, AT_SYMLINK_NOFOLLOW,
                STATX_BASIC_STATS | STATX_BTIME, &sx) != 0)
      continue;
    ++n;
    if (xattrs) {
      char names[1024];
      std::string path =
          "/proc/self/fd/" + std::to_string(::dirfd(dir)) + "/" + d->d_name;
      benchmark::DoNotOptimize(
          ::llistxattr(path.c_str(), names, sizeof(names)));
    }
    if (S_ISDIR(sx.stx_mode)) {
      int sub = ::openat(::dirfd(dir), d->d_name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) n += PlainWalk(sub, xattrs);
    }
  }
  ::closedir(dir);
  return n;
}

void BM_PlainReaddirStatx(benchmark::State& state) {
  size_t entries = 0;
  for (auto _ : state) {
    int fd = ::open(Tree().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) std::abort();
    entries = PlainWalk(fd, state.range(0) != 0);
    benchmark::DoNotOptimize(entries);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * entries));
  state.counters["entries"] = static_cast<double>(entries);
}
BENCHMARK(BM_PlainReaddirStatx)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace migstore::capture

BENCHMARK_MAIN();
