#include "cli_common.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>

#include "migstore/usmt_log.h"

namespace migstore::cli {

int Fail(const char* command, const Status& s) {
  // Messages quote rules files and stores: no control byte gets through.
  std::fprintf(stderr, "migstore %s: %s\n", command,
               DisplayText(s.ToString()).c_str());
  return static_cast<int>(ExitCodeFor(s));
}

std::string JoinArgs(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::string ComputerName() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof(buf) - 1) == 0 ? std::string(buf)
                                                  : std::string();
}

void AddSelectionOptions(CLI::App* cmd, SelectionOptions* o) {
  cmd->add_option("--root", o->root,
                  "The system to capture: / or a mounted disk")
      ->capture_default_str();
  cmd->add_option("--layout", o->layout, "auto, linux or windows")
      ->check(CLI::IsMember({"auto", "linux", "windows"}))
      ->capture_default_str();
  cmd->add_option("--rules", o->rules,
                  "A native rules file or a USMT migration XML (repeatable); "
                  "default: the "
                  "built-in rules for the layout")
      ->allow_extra_args(false);
  cmd->add_option("--config", o->config, "A USMT Config.xml");
  cmd->add_option("--user-include", o->user_include,
                  "Always take users matching GLOB (like ScanState /ui)")
      ->allow_extra_args(false);
  cmd->add_option("--user-exclude", o->user_exclude,
                  "Leave out users matching GLOB (like /ue)")
      ->allow_extra_args(false);
  cmd->add_option("--last-used", o->last_used,
                  "Take only users active in the last DAYS, or since "
                  "YYYY-MM-DD (like /uel)");
}

void AddVerbosityOption(CLI::App* cmd, int* verbosity) {
  cmd->add_option("-v,--verbosity", *verbosity,
                  "Which lines the --log gets, as ScanState /v: 0 errors and "
                  "warnings, 1 also Info (every object), 4 also Status "
                  "(phases), 5 both (default); 8, 9, 12, 13 the same with "
                  "USMT's debugger bit, ignored")
      ->check(
          [](const std::string& text) -> std::string {
            // Plain decimal digits only, checked here: CLI11 would convert
            // what from_chars refuses with strtoll's base 0 ("0x10",
            // "+16", " 16", "013" as octal).
            int level = -1;
            const bool digits =
                !text.empty() && text.size() <= 2 &&
                (text.size() == 1 || text[0] != '0') &&
                text.find_first_not_of("0123456789") == std::string::npos;
            if (digits) {
              std::from_chars(text.data(), text.data() + text.size(), level);
            }
            if (digits && UsmtLog::IsValidVerbosity(level))
              return std::string();
            return "invalid verbosity sum " + text +
                   " (USMT's /v: 0, 1, 4, 5, 8, 9, 12 or 13)";
          },
          "0|1|4|5|8|9|12|13");
}

void AddAutoOption(CLI::App* cmd, AutoOption* o) {
  o->option =
      cmd->add_option("--auto", o->dir,
                      "As /auto: --rules DIR/MigDocs.xml --rules "
                      "DIR/MigApp.xml --verbosity 5 (an explicit --verbosity "
                      "wins; --rules add to them)")
          ->expected(0, 1);
}

namespace {

// `name` in `dir`: the exact spelling, else the one name that matches
// ASCII case-insensitively (files copied from Windows come in any case).
Result<std::string> FindRulesFile(const std::string& dir,
                                  std::string_view name) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Status::InvalidArgument(
        "--auto " + dir + ": " + std::strerror(errno),
        "it must be the folder holding MigDocs.xml and MigApp.xml");
  }
  std::vector<std::string> folded;
  bool exact = false;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == name) exact = true;
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < n.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(n[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) folded.emplace_back(n);
  }
  ::closedir(d);
  const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  if (exact) return prefix + std::string(name);
  if (folded.size() == 1) return prefix + folded.front();
  if (folded.empty()) {
    return Status::InvalidArgument(
        "--auto " + dir + ": no " + std::string(name) + " there",
        "/auto reads MigDocs.xml and MigApp.xml from that folder");
  }
  return Status::InvalidArgument("--auto " + dir + ": several files named " +
                                 std::string(name) + " in different case");
}

}  // namespace

Status ApplyAutoOption(const AutoOption& o, std::vector<std::string>* rules,
                       int* verbosity) {
  if (!o.given()) return Status::OK();
  if (o.dir.empty()) {
    return Status::InvalidArgument(
        "--auto needs the folder holding MigDocs.xml and MigApp.xml "
        "(--auto DIR)",
        "migstore ships no copy of USMT's XML files, and its built-in rules "
        "are not what /auto selects");
  }
  for (std::string_view name : {"MigDocs.xml", "MigApp.xml"}) {
    MIGSTORE_ASSIGN_OR_RETURN(std::string path, FindRulesFile(o.dir, name));
    rules->push_back(std::move(path));
  }
  if (*verbosity < 0) *verbosity = 5;
  return Status::OK();
}

Result<std::optional<Layout>> ParseLayoutOption(const std::string& text) {
  if (text == "auto") return std::optional<Layout>();
  MIGSTORE_ASSIGN_OR_RETURN(Layout layout, ParseLayout(text));
  return std::optional<Layout>(layout);
}

Result<UserSelection> ParseUserSelection(const SelectionOptions& o) {
  UserSelection selection;
  selection.include = o.user_include;
  selection.exclude = o.user_exclude;
  if (!o.last_used.empty()) {
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    MIGSTORE_ASSIGN_OR_RETURN(selection.last_used,
                              ParseLastUsed(o.last_used, now));
  }
  return selection;
}

// Writes `text` to `path` under a temporary name, fsyncs and renames it, so
// a reader never finds half a file. An existing file is kept unless
// `overwrite`: the rename itself refuses to replace (RENAME_NOREPLACE, or
// link() where the filesystem lacks it), so a file that appears meanwhile
// is kept too. The directory is synced, so the name survives a crash.
Status WriteWhole(const std::string& path, const std::string& text,
                  bool overwrite) {
  if (!overwrite && ::access(path.c_str(), F_OK) == 0) {
    return Status::AlreadyExists(path, "exists; say --overwrite to replace it");
  }
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot create " + tmp, errno);
  auto fail = [&tmp](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Status::FromErrno("cannot write " + tmp, errno);
      ::close(fd);
      return fail(s);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    return fail(Status::FromErrno("cannot write " + tmp, errno));
  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      return fail(Status::FromErrno("cannot rename " + tmp, errno));
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(),
                         RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS) {
      err = ::link(tmp.c_str(), path.c_str()) == 0 ? 0 : errno;
      ::unlink(tmp.c_str());
    }
    if (err == EEXIST) {
      return fail(Status::AlreadyExists(path, "appeared while it was written"));
    }
    if (err != 0) return fail(Status::FromErrno("cannot rename " + tmp, err));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    Status s = Status::FromErrno(
        path +
            " is complete and in place, but its directory could not be "
            "synced, so a crash now could still lose it",
        errno);
    if (dir_fd >= 0) ::close(dir_fd);
    return s;
  }
  ::close(dir_fd);
  return Status::OK();
}

Result<CompiledSelection> CompileSelection(const SelectionOptions& o) {
  CompiledSelection c;
  DiscoverOptions discover;
  discover.root = o.root;
  MIGSTORE_ASSIGN_OR_RETURN(discover.layout, ParseLayoutOption(o.layout));
  MIGSTORE_ASSIGN_OR_RETURN(c.machine, DiscoverMachine(discover));
  MIGSTORE_ASSIGN_OR_RETURN(UserSelection selection, ParseUserSelection(o));
  MIGSTORE_ASSIGN_OR_RETURN(c.users, SelectUsers(c.machine, selection));
  for (const std::string& f : o.rules)
    MIGSTORE_RETURN_IF_ERROR(c.rules.AddFile(f));
  if (o.rules.empty()) c.rules.AddBuiltIn(c.machine.layout);
  if (!o.config.empty())
    MIGSTORE_RETURN_IF_ERROR(c.rules.SetConfigFile(o.config));
  MIGSTORE_ASSIGN_OR_RETURN(c.matcher,
                            CompileRules(c.rules, c.machine, c.users));
  for (const RuleDiagnostic& d : c.matcher.diagnostics())
    c.diagnostics.push_back(d.ToString());
  return c;
}

void PrintDiagnostics(const std::vector<std::string>& diagnostics) {
  // MigApp.xml alone holds thousands of registry patterns: a few per file.
  constexpr size_t kPerFile = 10;
  std::map<std::string, size_t> per_file;
  for (const std::string& d : diagnostics) {
    std::string file = d.substr(0, d.find(':'));
    if (++per_file[file] <= kPerFile)
      std::fprintf(stderr, "%s\n", DisplayText(d).c_str());
  }
  for (const auto& [file, n] : per_file) {
    if (n > kPerFile) {
      std::fprintf(stderr, "%s: %zu more notes and warnings not shown\n",
                   DisplayBytes(file).c_str(), n - kPerFile);
    }
  }
}

}  // namespace migstore::cli
