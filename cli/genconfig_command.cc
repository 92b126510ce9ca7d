#include "genconfig_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "migstore/matcher.h"

namespace migstore::cli {
namespace {

int Fail(const Status& s) { return cli::Fail("genconfig", s); }

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

}  // namespace

CLI::App* AddGenConfigCommand(CLI::App* app, GenConfigOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "genconfig",
      "Write a Config.xml listing the rules' components present on the root, "
      "each migrate=\"yes\", to edit and give back with --config "
      "(ScanState /genconfig)");
  AddSelectionOptions(cmd, &o->selection);
  cmd->add_option("--out", o->out, "The Config.xml to write")->required();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing file");
  return cmd;
}

int RunGenConfig(const GenConfigOptions& options) {
  // A component a Config.xml switches off would be left out of the new
  // file, and a component not listed migrates: written again, the file
  // would switch it back on.
  if (!options.selection.config.empty()) {
    return Fail(Status::InvalidArgument(
        "genconfig writes a Config.xml from the rules alone: give no "
        "--config (edit the file it writes instead)"));
  }
  Result<CompiledSelection> c = CompileSelection(options.selection);
  if (!c.ok()) return Fail(c.status());
  PrintDiagnostics(c->diagnostics);
  Status s = WriteWhole(options.out, GenerateConfigXml(c->rules, c->matcher),
                        options.overwrite);
  if (!s.ok()) return Fail(s);
  std::printf("wrote %s\n", DisplayBytes(options.out).c_str());
  return Code(ExitCode::kSuccess);
}

}  // namespace migstore::cli
