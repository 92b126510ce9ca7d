#include "engine/src/processing/run_processing.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace migstore::processing {
namespace {

std::string Where(const ProcessingStep& s) {
  return std::string(s.command ? "<externalProcess> " : "<processing> ") +
         s.file + ":" + std::to_string(s.line);
}

// Runs `command` with /bin/sh in `dir`; OK when it exits 0.
Status Shell(const std::string& command, const std::string& given_dir,
             std::string_view when) {
  // The command sees the directory by its full name, whatever the user
  // typed (a relative --root would name another place once in it).
  char* real = ::realpath(given_dir.c_str(), nullptr);
  if (real == nullptr)
    return Status::FromErrno("cannot find the directory " + given_dir, errno);
  const std::string dir = real;
  std::free(real);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    // Nor the secrets migstore may have been given (a rules file's
    // command has no business with the store's password or the S3 keys).
    if (std::strncmp(*e, "MIGSTORE_", 9) == 0 ||
        std::strncmp(*e, "AWS_", 4) == 0 || std::strncmp(*e, "PWD=", 4) == 0) {
      continue;
    }
    env.emplace_back(*e);
  }
  env.push_back("MIGSTORE_PHASE=" + std::string(when));
  env.push_back("MIGSTORE_ROOT=" + dir);
  env.push_back("PWD=" + dir);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  // The shell starts with no signal blocked and every signal at its
  // default, whatever the program embedding migstore set for itself.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int err = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) return Status::FromErrno("cannot start /bin/sh in " + dir, err);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno == ECHILD) {
      // The program embedding migstore ignores SIGCHLD: the kernel reaped
      // the shell, and how it ended is lost.
      return Status::IOError(
          "the command's end cannot be known (the program ignores SIGCHLD)");
    }
    if (errno != EINTR)
      return Status::FromErrno("cannot wait for /bin/sh", errno);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::OK();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Status::IOError(
        "the command was not found or could not start "
        "(exit 127; a missing working directory or "
        "command)");
  }
  return Status::IOError(WIFEXITED(status)
                             ? "the command exited with " +
                                   std::to_string(WEXITSTATUS(status))
                             : "the command was killed by signal " +
                                   std::to_string(WTERMSIG(status)));
}

}  // namespace

ProcessingResult Run(const Matcher& rules, std::string_view when,
                     const std::string& dir, bool allowed) {
  ProcessingResult out;
  for (const ProcessingStep& s : rules.Processing(when)) {
    if (!s.command) {
      out.notes.push_back(
          {Where(s), "script " + s.text +
                         " acts on a running Windows; there is nothing for it "
                         "to act on here, so it is not run"});
      continue;
    }
    if (!allowed) {
      out.notes.push_back(
          {Where(s), "command not run (" + std::string(when) +
                         "; say --allow-processing to run it): " + s.text});
      continue;
    }
    out.notes.push_back(
        {Where(s), "running (" + std::string(when) + "): " + s.text});
    if (Status st = Shell(s.text, dir, when); !st.ok())
      out.errors.push_back({Where(s), st.WithContext(s.text)});
  }
  return out;
}

}  // namespace migstore::processing
