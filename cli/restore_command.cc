#include "restore_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "cli_common.h"
#include "json_writer.h"
#include "migstore/build_info.h"
#include "migstore/extract.h"
#include "migstore/restore.h"
#include "migstore/usmt_log.h"
#include "progress_line.h"
#include "run_display.h"

namespace migstore::cli {
namespace {

// Everything the command shows while the engine works: the progress line,
// errors and notes on stderr, LoadState's main and progress logs, and the
// plan of a dry run.
class CommandObserver : public RestoreObserver {
 public:
  CommandObserver(UsmtLog* log, UsmtProgressLog* progress_log, bool print_plan,
                  bool keep_plan)
      : log_(log),
        progress_log_(progress_log),
        print_plan_(print_plan),
        keep_plan_(keep_plan),
        display_(log, progress_log, RunDisplay::kRestore) {}

  void OnProgress(const RestoreProgress& p) override { display_.Progress(p); }

  void OnFileError(const FileIssue& issue) override {
    display_.FileError(issue);
  }

  void OnUsers(const std::vector<RestoreUser>& users) override {
    for (const RestoreUser& u : users) {
      std::string where = u.mapped_to.empty()
                              ? std::string()
                              : " as " + DisplayBytes(u.mapped_to) + " into " +
                                    DisplayBytes(u.destination_home);
      if (log_ != nullptr) {
        log_->Info("User " + DisplayBytes(u.name) + " (" +
                   DisplayBytes(u.home) +
                   "): " + (u.selected ? "restored" + where : "not restored") +
                   ", " + DisplayText(u.reason));
      }
      if (progress_log_ != nullptr) {
        progress_log_->Write(
            {{"detectedUser", DisplayBytes(u.name)},
             {"includedInMigration", u.selected ? "Yes" : "No"}});
      }
    }
  }

  void OnNote(const FileNote& note) override { display_.Note(note); }

  void OnPlanned(const PlannedEntry& e) override {
    display_.Planned(e);
    if (keep_plan_) plan_.push_back(e);
    if (!print_plan_) return;
    std::string to;
    if (!e.destination.empty() && e.destination != e.path) {
      to = " -> " + DisplayBytes(e.destination);
    }
    // A reason may name store paths ("its folder ... was not restored").
    std::printf("%-9s %-7s %12llu  %s%s%s%s%s\n", e.action, e.type,
                static_cast<unsigned long long>(e.size),
                DisplayBytes(e.path).c_str(), to.c_str(),
                e.reason.empty() ? "" : "  (", DisplayText(e.reason).c_str(),
                e.reason.empty() ? "" : ")");
  }

  void Done() { display_.Clear(); }
  void set_windows_objects(bool w) { display_.set_windows_objects(w); }
  const std::vector<PlannedEntry>& plan() const { return plan_; }

 private:
  UsmtLog* log_;
  UsmtProgressLog* progress_log_;
  bool print_plan_;
  bool keep_plan_;
  RunDisplay display_;
  std::vector<PlannedEntry> plan_;
};

void WriteReportJson(JsonWriter* j, const char* command, const RestoreReport& r,
                     const std::vector<PlannedEntry>* plan) {
  j->BeginObject();
  j->Key("command");
  j->String(command);
  j->Key("store");
  j->String(r.store_path);
  j->Key("target");
  j->String(r.target);
  j->Key("dry_run");
  j->Bool(r.dry_run);
  if (!r.users.empty()) {
    j->Key("users");
    j->BeginArray();
    for (const RestoreUser& u : r.users) {
      j->BeginObject();
      j->Key("name");
      j->String(u.name);
      j->Key("home");
      j->String(u.home);
      j->Key("selected");
      j->Bool(u.selected);
      j->Key("reason");
      j->String(u.reason);
      if (!u.mapped_to.empty()) {
        j->Key("mapped_to");
        j->String(u.mapped_to);
      }
      j->Key("destination_home");
      j->String(u.destination_home);
      j->EndObject();
    }
    j->EndArray();
  }
  j->Numbers({{"files", r.files},
              {"directories", r.directories},
              {"symlinks", r.symlinks},
              {"fifos", r.fifos},
              {"hardlinks", r.hardlinks},
              {"bytes", r.bytes},
              {"renamed", r.renamed},
              {"overwritten", r.overwritten},
              {"skipped", r.skipped},
              {"identical", r.identical},
              {"moved", r.moved},
              {"not_selected", r.not_selected},
              {"registry_keys", r.registry_keys},
              {"registry_values", r.registry_values},
              {"blocks_opened", r.blocks_opened},
              {"store_bytes_read", r.store_bytes_read}});
  j->Key("seconds");
  j->Number(r.seconds);
  if (plan != nullptr) {
    j->Key("plan");
    j->BeginArray();
    for (const PlannedEntry& e : *plan) {
      j->BeginObject();
      j->Key("path");
      j->String(e.path);
      j->Key("destination");
      j->String(e.destination);
      j->Key("type");
      j->String(e.type);
      j->Key("size");
      j->Number(e.size);
      j->Key("action");
      j->String(e.action);
      if (!e.reason.empty()) {
        j->Key("reason");
        j->String(e.reason);
      }
      j->EndObject();
    }
    j->EndArray();
  }
  j->Key("errors");
  j->BeginArray();
  for (const FileIssue& e : r.errors) {
    j->BeginObject();
    j->Key("path");
    j->String(e.path);
    j->Key("message");
    j->String(e.status.ToString());
    j->Key("errno");
    j->Number(static_cast<int64_t>(e.status.sys_errno()));
    j->EndObject();
  }
  j->EndArray();
  j->Key("notes");
  j->BeginArray();
  for (const FileNote& n : r.notes) {
    j->BeginObject();
    j->Key("path");
    j->String(n.path);
    j->Key("note");
    j->String(n.what);
    j->EndObject();
  }
  j->EndArray();
  j->Key("exit_code");
  j->Number(static_cast<uint64_t>(r.errors.empty() ? 0 : 3));
  j->EndObject();
}

// Zeroes a string's whole buffer, not only its size()'s, then empties it.
void WipeString(std::string* s) {
  s->resize(s->capacity());  // within the buffer: never reallocates
  ::explicit_bzero(s->data(), s->size());
  s->clear();
}

// --account-password-file: the first line of the file, its line ending
// dropped, as --password-file reads a store's password (key.h; that one
// stays in a Key, which hands no password back). Unreadable, empty or
// longer than 4096 bytes: KeyUnreadable, exit 33; a file others may read
// is used with a warning. Written straight into *out: a string returned or
// moved would leave copies (a short one's bytes stay in the moved-from
// object) that nothing wipes.
Status ReadAccountPassword(const std::string& path, std::string* out) {
  const std::string what = "account password file " + path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::KeyUnreadable("cannot open " + what, std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    std::fprintf(stderr,
                 "migstore restore: warning: permissions %04o for '%s' are "
                 "too open; it is used anyway, but other users may be able "
                 "to read this account password file: chmod 600 '%s'\n",
                 static_cast<unsigned>(st.st_mode & 07777), path.c_str(),
                 path.c_str());
  }
  constexpr size_t kMax = 4096;
  std::string text(kMax + 1, '\0');
  size_t len = 0;
  int err = 0;
  while (len < text.size()) {
    ssize_t n = ::read(fd, text.data() + len, text.size() - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    len += static_cast<size_t>(n);
    if (text.find('\n') < len) break;
  }
  ::close(fd);
  const size_t line = std::min(len, text.find_first_of("\r\n"));
  Status bad;
  if (err != 0) {
    bad = Status::KeyUnreadable("cannot read " + what, std::strerror(err));
  } else if (line > kMax) {
    bad = Status::KeyUnreadable(what, "too long to be a password");
  } else if (line == 0) {
    bad = Status::KeyUnreadable(what, "the password is empty");
  } else {
    WipeString(out);
    out->reserve(kMax);  // never grown again: no copy left behind
    out->assign(text.data(), line);
  }
  WipeString(&text);
  return bad;
}

// Whether the verbose log names objects in Windows form: when the target
// is a Windows root (as --layout auto tells one; an empty target is not).
bool WindowsTarget(const std::string& target) {
  DiscoverOptions d;
  d.root = target;
  Result<Machine> m = DiscoverMachine(d);
  return m.ok() && m->layout == Layout::kWindows;
}

void PrintSummary(const char* verb, const RestoreReport& r) {
  std::printf(
      "%s%s %llu files (%s), %llu directories, %llu symlinks, %llu fifos into "
      "%s\n",
      r.dry_run ? "dry run: would have " : "", verb,
      static_cast<unsigned long long>(r.files), HumanBytes(r.bytes).c_str(),
      static_cast<unsigned long long>(r.directories),
      static_cast<unsigned long long>(r.symlinks),
      static_cast<unsigned long long>(r.fifos), r.target.c_str());
  std::printf(
      "  %llu hard links; conflicts: %llu renamed, %llu overwritten, %llu "
      "kept; "
      "%llu already there; %llu moved by rules; %.1f s\n",
      static_cast<unsigned long long>(r.hardlinks),
      static_cast<unsigned long long>(r.renamed),
      static_cast<unsigned long long>(r.overwritten),
      static_cast<unsigned long long>(r.skipped),
      static_cast<unsigned long long>(r.identical),
      static_cast<unsigned long long>(r.moved), r.seconds);
  if (r.registry_keys + r.registry_values > 0) {
    std::printf("  settings: %llu registry values, %llu keys\n",
                static_cast<unsigned long long>(r.registry_values),
                static_cast<unsigned long long>(r.registry_keys));
  }
  if (r.dry_run) std::printf("  nothing was written\n");
  if (!r.errors.empty()) {
    std::printf("  %zu entries could not be %s and were skipped (see above)\n",
                r.errors.size(), verb);
  }
}

}  // namespace

CLI::App* AddRestoreCommand(CLI::App* app, RestoreCommandOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "restore",
      "Restore a store's users and files below --target (LoadState)");
  cmd->add_option("--store", o->store,
                  "The store: a file, s3://BUCKET/KEY, or a hard-link "
                  "store's directory; or give --smp");
  AddSmpStepOptions(cmd, &o->smp, /*retries=*/false);
  cmd->add_option("--target", o->target,
                  "Where the capture root's entries land: / or a mounted disk")
      ->required();
  AddKeyOptions(cmd, &o->key, /*capture=*/false);
  cmd->add_option("--map-user", o->map_users,
                  "OLD:NEW: restore the store's user OLD as NEW, into NEW's "
                  "profile folder "
                  "(like /mu); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--map-domain", o->map_domains,
                  "OLD:NEW: restore the store's users of domain OLD "
                  "(OLD\\alice, alice@OLD) as the same users of NEW (like "
                  "/md); '*' in OLD matches any run; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("--create-accounts", o->create_accounts,
                "Create the local accounts the target's etc/passwd lacks, "
                "locked (like /lac); without it such users stop the restore "
                "(exit 14)");
  cmd->add_flag("--enable-accounts", o->enable_accounts,
                "Enable the accounts created (like /lae); needs "
                "--create-accounts and --account-password-file");
  cmd->add_option("--account-password-file", o->account_password_file,
                  "A file whose first line is the password of the accounts "
                  "created (like /lac:password)");
  cmd->add_option("--user-include", o->user_include,
                  "Always restore users matching GLOB (like /ui)")
      ->allow_extra_args(false);
  cmd->add_option("--user-exclude", o->user_exclude,
                  "Do not restore users matching GLOB (/ue)")
      ->allow_extra_args(false);
  cmd->add_option(
      "--last-used", o->last_used,
      "Restore only users active in the last DAYS, or since YYYY-MM-DD, when "
      "captured (like /uel)");
  cmd->add_option(
         "--on-conflict", o->on_conflict,
         "When the destination is taken: rename (\"name (1).ext\", default), "
         "overwrite, skip or newer")
      ->check(CLI::IsMember({"rename", "overwrite", "skip", "newer"}))
      ->capture_default_str();
  cmd->add_option(
         "--rules", o->rules,
         "A USMT migration XML whose <merge> and <locationModify> rules apply; "
         "repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--min-free", o->min_free,
                  "Refuse to start (exit 29) when the target's filesystem has "
                  "less free space than SIZE (\"250MB\", \"1G\")")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--machine-settings", o->machine_settings,
                "Also write the store's machine settings (HKLM) into the "
                "target's SOFTWARE and SYSTEM hives");
  cmd->add_option("--config", o->config,
                  "A USMT Config.xml whose <ErrorControl> decides which "
                  "errors skip an entry and which stop the restore");
  cmd->add_flag("--dry-run", o->dry_run, "Print the plan and write nothing");
  cmd->add_flag(
      "--continue-on-error", o->continue_on_error,
      "Skip entries that cannot be restored and finish (exit 3), like /c");
  cmd->add_flag("--allow-processing", o->allow_processing,
                "Run the command lines of the rules' <externalProcess> steps "
                "(pre-apply, apply-success, post-apply)");
  cmd->add_flag("--strip-privileges", o->strip_privileges,
                "Restore files without setuid or setgid bits and without "
                "file capabilities (security.capability)");
  cmd->add_option("--threads", o->threads,
                  "Worker threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--log", o->log, "Main log in LoadState's format (appended)");
  AddVerbosityOption(cmd, &o->verbosity);
  AddAutoOption(cmd, &o->auto_rules);
  cmd->add_option("--progress-log", o->progress_log,
                  "Progress log in LoadState's format");
  cmd->add_flag("--json", o->json,
                "Print a machine-readable report on standard output");
  return cmd;
}

CLI::App* AddExtractCommand(CLI::App* app, ExtractCommandOptions* o) {
  CLI::App* cmd =
      app->add_subcommand("extract",
                          "Copy files out of a store into a directory, as "
                          "plain files (UsmtUtils /extract)");
  cmd->add_option("--store", o->store,
                  "The store: a file, s3://BUCKET/KEY, or a hard-link "
                  "store's directory")
      ->required();
  cmd->add_option("--to", o->to, "The directory to extract into")->required();
  AddKeyOptions(cmd, &o->key, /*capture=*/false);
  cmd->add_option("--include", o->include,
                  "Take entries matching GLOB (\"*.docx\", "
                  "\"home/alice/Documents\"); beats "
                  "--exclude; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--exclude", o->exclude,
                  "Leave out entries matching GLOB; repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("--overwrite", o->overwrite,
                "Replace files already there (like /o)");
  cmd->add_option("--reg", o->reg_file,
                  "Also write the store's registry settings to this .reg "
                  "file, as regedit imports it");
  cmd->add_option("--reg-user", o->reg_user,
                  "Whose HKCU settings go into the .reg file as "
                  "HKEY_CURRENT_USER (needed when several users have some)");
  cmd->add_flag("--continue-on-error", o->continue_on_error,
                "Skip entries that cannot be extracted and finish (exit 3)");
  cmd->add_option("--threads", o->threads,
                  "Worker threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--log", o->log, "Main log in USMT's format (appended)");
  AddVerbosityOption(cmd, &o->verbosity);
  cmd->add_option("--progress-log", o->progress_log,
                  "Progress log in USMT's format");
  cmd->add_flag("--json", o->json,
                "Print a machine-readable report on standard output");
  return cmd;
}

int RunRestore(const RestoreCommandOptions& o) {
  Status choice = CheckStoreChoice(o.store, o.smp, o.key);
  if (!choice.ok()) return Fail("restore", choice);
  std::optional<SmpClient> smp;
  if (!o.smp.server.empty()) {
    Result<SmpClient> client = ConnectSmp(o.smp, "restore");
    if (!client.ok()) return Fail("restore", client.status());
    smp.emplace(std::move(*client));
  }
  auto key = ResolveKey(o.key, "restore");
  if (!key.ok()) return Fail("restore", key.status());
  RestoreOptions r;
  r.store_path = o.store;
  r.key = *key;
  r.key_policy = PolicyOf(o.key);
  r.target = o.target;
  for (const std::string& m : o.map_users) {
    auto mapping = ParseUserMapping(m);
    if (!mapping.ok()) return Fail("restore", mapping.status());
    r.map_users.push_back(*mapping);
  }
  for (const std::string& m : o.map_domains) {
    auto mapping = ParseDomainMapping(m);
    if (!mapping.ok()) return Fail("restore", mapping.status());
    r.map_domains.push_back(*mapping);
  }
  r.create_accounts = o.create_accounts;
  r.enable_accounts = o.enable_accounts;
  // The account password leaves memory with the options (the engine wipes
  // its own copies).
  struct Wipe {
    std::string* s;
    ~Wipe() { WipeString(s); }
  } wipe{&r.account_password};
  if (!o.account_password_file.empty()) {
    Status read =
        ReadAccountPassword(o.account_password_file, &r.account_password);
    if (!read.ok()) return Fail("restore", read);
  }
  SelectionOptions selection;
  selection.user_include = o.user_include;
  selection.user_exclude = o.user_exclude;
  selection.last_used = o.last_used;
  auto users = ParseUserSelection(selection);
  if (!users.ok()) return Fail("restore", users.status());
  if (users->last_used &&
      users->last_used->kind == LastUsed::Kind::kLoggedOnNow) {
    return Fail("restore",
                Status::InvalidArgument(
                    "--last-used 0 (logged on now) means nothing for a store"));
  }
  r.users = *users;
  auto policy = ParseConflictPolicy(o.on_conflict);
  if (!policy.ok()) return Fail("restore", policy.status());
  r.on_conflict = *policy;
  // --auto: MigDocs.xml and MigApp.xml after --rules, and verbosity 5.
  int verbosity = o.verbosity;
  r.rules_files = o.rules;
  Status automatic = ApplyAutoOption(o.auto_rules, &r.rules_files, &verbosity);
  if (!automatic.ok()) return Fail("restore", automatic);
  r.config_file = o.config;
  r.machine_settings = o.machine_settings;
  r.min_free_bytes = o.min_free;
  r.dry_run = o.dry_run;
  r.continue_on_error = o.continue_on_error;
  r.allow_processing = o.allow_processing;
  r.strip_privileges = o.strip_privileges;
  r.threads = o.threads;

  RunLogs out;
  Status s =
      out.Open(o.log, o.progress_log, "migstore restore", o.argv, verbosity);
  if (!s.ok()) return Fail("restore", s);
  CommandObserver observer(out.log.get(), out.progress.get(),
                           o.dry_run && !o.json, o.dry_run && o.json);
  if (out.verbose()) observer.set_windows_objects(WindowsTarget(o.target));
  // With --smp: Request State Store for restore, restore; Release State
  // Store is `migstore smp release`, once the task sequence is done.
  SmpStore store;
  Result<RestoreReport> report =
      smp ? smp->Restore(r, &observer, &store) : Restore(r, &observer);
  WipeString(&r.account_password);  // planned and hashed: no longer needed
  if (smp && report.ok() && !o.json) {
    std::printf("state migration point: restored store %s (%s -> %s)\n",
                store.id.c_str(), DisplayText(store.source).c_str(),
                DisplayText(store.destination).c_str());
  }
  observer.Done();
  if (!report.ok()) return out.Finish("restore", report.status(), 0);
  PrintDiagnostics(report->rule_diagnostics);
  if (out.log) {
    for (const std::string& d : report->rule_diagnostics)
      out.log->Warning(DisplayText(d));
  }
  if (o.json) {
    JsonWriter j(stdout);
    WriteReportJson(&j, "restore", *report,
                    o.dry_run ? &observer.plan() : nullptr);
  } else {
    for (const RestoreUser& u : report->users) {
      std::string as;
      if (u.selected && !u.mapped_to.empty()) {
        as = " as " + DisplayBytes(u.mapped_to) + " into " +
             DisplayBytes(u.destination_home);
      }
      std::printf("user %s (%s): %s%s\n", DisplayBytes(u.name).c_str(),
                  DisplayBytes(u.home).c_str(),
                  u.selected ? "restored" : "not restored", as.c_str());
    }
    PrintSummary("restored", *report);
  }
  return out.Finish("restore", Status::OK(), report->errors.size());
}

int RunExtract(const ExtractCommandOptions& o) {
  auto key = ResolveKey(o.key, "extract");
  if (!key.ok()) return Fail("extract", key.status());
  ExtractOptions e;
  e.store_path = o.store;
  e.key = *key;
  e.key_policy = PolicyOf(o.key);
  e.to = o.to;
  e.include = o.include;
  e.exclude = o.exclude;
  e.overwrite = o.overwrite;
  e.continue_on_error = o.continue_on_error;
  e.threads = o.threads;
  e.reg_file = o.reg_file;
  e.reg_user = o.reg_user;
  RunLogs out;
  Status s =
      out.Open(o.log, o.progress_log, "migstore extract", o.argv, o.verbosity);
  if (!s.ok()) return Fail("extract", s);
  CommandObserver observer(out.log.get(), out.progress.get(), false, false);
  auto report = Extract(e, &observer);
  observer.Done();
  if (!report.ok()) return out.Finish("extract", report.status(), 0);
  if (o.json) {
    JsonWriter j(stdout);
    WriteReportJson(&j, "extract", *report, nullptr);
  } else {
    PrintSummary("extracted", *report);
  }
  return out.Finish("extract", Status::OK(), report->errors.size());
}

}  // namespace migstore::cli
