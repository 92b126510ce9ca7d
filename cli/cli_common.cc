#include "cli_common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>

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
// `overwrite`.
Status WriteWhole(const std::string& path, const std::string& text,
                  bool overwrite) {
  if (!overwrite && ::access(path.c_str(), F_OK) == 0) {
    return Status::AlreadyExists(path, "exists; say --overwrite to replace it");
  }
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot create " + tmp, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Status::FromErrno("cannot write " + tmp, errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status s = Status::FromErrno("cannot write " + tmp, errno);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::FromErrno("cannot rename " + tmp, errno);
    ::unlink(tmp.c_str());
    return s;
  }
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
