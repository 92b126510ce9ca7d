#include "capture_command.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "json_writer.h"
#include "migstore/build_info.h"
#include "migstore/capture.h"
#include "migstore/usmt_log.h"
#include "progress_line.h"
#include "run_display.h"

namespace migstore::cli {
namespace {

// Everything the command shows while the engine works: the progress line,
// USMT's main and progress logs, and the --list-files list.
class CommandObserver : public CaptureObserver {
 public:
  CommandObserver(UsmtLog* log, UsmtProgressLog* progress_log,
                  std::FILE* list_files)
      : log_(log),
        progress_log_(progress_log),
        list_files_(list_files),
        display_(log, progress_log, RunDisplay::kCapture) {}

  void OnProgress(const CaptureProgress& p) override { display_.Progress(p); }

  void OnFileError(const FileIssue& issue) override {
    display_.FileError(issue);
  }

  void OnUsers(const std::vector<CaptureUser>& users) override {
    for (const CaptureUser& u : users) {
      if (log_ != nullptr) {
        log_->Info("User " + DisplayBytes(u.name) + " (" +
                   DisplayBytes(u.home) +
                   "): " + (u.selected ? "included" : "not included") + ", " +
                   DisplayText(u.reason));
      }
      if (progress_log_ != nullptr) {
        progress_log_->Write(
            {{"detectedUser", DisplayBytes(u.name)},
             {"includedInMigration", u.selected ? "Yes" : "No"}});
      }
    }
  }

  void OnNote(const FileNote& note) override { display_.Note(note); }

  void OnEntryStored(const std::string& path) override {
    if (list_files_ != nullptr)
      std::fprintf(list_files_, "%s\n", DisplayBytes(path).c_str());
    display_.Stored(path);
  }

  void Done() { display_.Clear(); }
  void set_windows_objects(bool windows, const std::string& root) {
    display_.set_windows_objects(windows, root);
  }

 private:
  UsmtLog* log_;
  UsmtProgressLog* progress_log_;
  std::FILE* list_files_;
  RunDisplay display_;
};

// The logs, and the --list-files list. The logs must not be the store.
struct Outputs : RunLogs {
  std::FILE* list = nullptr;
  ~Outputs() {
    if (list != nullptr) std::fclose(list);
  }
};

Status OpenOutputs(const CaptureCommandOptions& o, const char* program,
                   Outputs* out) {
  if (!o.log.empty() && o.log == o.store) {
    return Status::InvalidArgument("the log cannot be the store");
  }
  MIGSTORE_RETURN_IF_ERROR(
      out->Open(o.log, o.progress_log, program, o.argv, o.verbosity));
  if (!o.list_files.empty()) {
    out->list = std::fopen(o.list_files.c_str(), "we");
    if (out->list == nullptr)
      return Status::FromErrno("cannot create " + o.list_files, errno);
  }
  return Status::OK();
}

// Whether the verbose log names objects in Windows form: the layout asked
// for, else the one the capture will find on the root.
bool WindowsRoot(const SelectionOptions& s) {
  if (s.layout != "auto") return s.layout == "windows";
  DiscoverOptions d;
  d.root = s.root;
  Result<Machine> m = DiscoverMachine(d);
  return m.ok() && m->layout == Layout::kWindows;
}

Result<CaptureOptions> ToCaptureOptions(const CaptureCommandOptions& o) {
  CaptureOptions c;
  c.root = o.selection.root;
  MIGSTORE_ASSIGN_OR_RETURN(c.layout, ParseLayoutOption(o.selection.layout));
  c.rules_files = o.selection.rules;
  c.config_file = o.selection.config;
  MIGSTORE_ASSIGN_OR_RETURN(c.users, ParseUserSelection(o.selection));
  c.store_path = o.store;
  c.encrypt = !o.key.no_encrypt;
  if (!o.cipher.empty()) {
    MIGSTORE_ASSIGN_OR_RETURN(c.cipher, ParseCipher(o.cipher));
  }
  c.overwrite = o.overwrite;
  c.base_store = o.base;
  c.hardlink = o.hardlink;
  if (o.hardlink) c.encrypt = false;  // it cannot be: capture.h
  if (o.hardlink_fallback == "error") {
    c.hardlink_fallback = HardLinkFallback::kError;
  } else if (o.hardlink_fallback != "copy") {
    return Status::InvalidArgument("--hardlink-fallback must be copy or error",
                                   o.hardlink_fallback);
  }
  c.continue_on_error = o.continue_on_error;
  c.cross_mounts = o.cross_mounts;
  c.local_only = o.local_only;
  c.allow_processing = o.allow_processing;
  c.min_free_bytes = o.min_free;
  c.threads = o.threads;
  c.level = o.level;
  c.compress = !o.no_compress;
  return c;
}

void WriteUsersJson(JsonWriter* j, const std::vector<CaptureUser>& users) {
  j->Key("users");
  j->BeginArray();
  for (const CaptureUser& u : users) {
    j->BeginObject();
    j->Key("name");
    j->String(u.name);
    j->Key("home");
    j->String(u.home);
    j->Key("selected");
    j->Bool(u.selected);
    j->Key("reason");
    j->String(u.reason);
    j->EndObject();
  }
  j->EndArray();
}

void WriteIssuesJson(JsonWriter* j, const std::vector<FileIssue>& errors,
                     const std::vector<FileNote>& notes) {
  j->Key("errors");
  j->BeginArray();
  for (const FileIssue& e : errors) {
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
  for (const FileNote& n : notes) {
    j->BeginObject();
    j->Key("path");
    j->String(n.path);
    j->Key("note");
    j->String(n.what);
    j->EndObject();
  }
  j->EndArray();
}

}  // namespace

void AddCaptureCommonOptions(CLI::App* cmd, CaptureCommandOptions* o) {
  AddSelectionOptions(cmd, &o->selection);
  cmd->add_flag(
      "--continue-on-error", o->continue_on_error,
      "Skip files that cannot be read and finish (exit 3), like ScanState /c");
  cmd->add_flag("--cross-mounts", o->cross_mounts,
                "Cross mount points below profile homes");
  cmd->add_flag("--local-only", o->local_only,
                "Enter no mount point of a network or removable filesystem "
                "(like /localonly)");
  cmd->add_flag("--allow-processing", o->allow_processing,
                "Run the command lines of the rules' <externalProcess> steps "
                "(pre-scan, scan-success, post-scan)");
  cmd->add_option("--threads", o->threads,
                  "Worker threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--level", o->level, "zstd compression level, -5 to 19")
      ->check(CLI::Range(-5, 19))
      ->capture_default_str();
  cmd->add_flag("--no-compress", o->no_compress,
                "Store file data without compressing it");
  cmd->add_option("--log", o->log, "Main log in ScanState's format (appended)");
  AddVerbosityOption(cmd, &o->verbosity);
  cmd->add_option("--progress-log", o->progress_log,
                  "Progress log in ScanState's format");
  AddAutoOption(cmd, &o->auto_rules);
  cmd->add_flag("--json", o->json,
                "Print a machine-readable report on standard output");
}

CLI::App* AddCaptureCommand(CLI::App* app, CaptureCommandOptions* o) {
  CLI::App* cmd =
      app->add_subcommand("capture",
                          "Capture the selected users' files under --root into "
                          "an encrypted store (ScanState)");
  cmd->add_option("--store", o->store,
                  "The store to write: a file, s3://BUCKET/KEY (an "
                  "object; AWS_* variables, docs/cli.md), or with "
                  "--hardlink a directory; or give --smp");
  AddSmpStepOptions(cmd, &o->smp, /*retries=*/true);
  AddCaptureCommonOptions(cmd, o);
  cmd->add_flag("--overwrite", o->overwrite,
                "Replace an existing store (like /o)");
  cmd->add_option("--base", o->base,
                  "An incremental capture: take the files that are unchanged "
                  "since this earlier store of the same root (path, size, "
                  "times) from it without reading them; the new store "
                  "stands alone. Same key; may be --store itself with "
                  "--overwrite")
      ->type_name("STORE");
  cmd->add_option("--cipher", o->cipher,
                  "What seals the encrypted store's blocks: "
                  "xchacha20-poly1305 (the default, read by every migstore) "
                  "or aes-256-gcm (cheaper on CPUs with AES instructions; "
                  "migstore builds from before it refuse the store)")
      ->check(CLI::IsMember({"xchacha20-poly1305", "aes-256-gcm"}));
  cmd->add_option("--min-free", o->min_free,
                  "Refuse to start (exit 29) when the store's filesystem has "
                  "less free space than SIZE (\"250MB\", \"1G\")")
      ->transform(CLI::AsSizeValue(false));
  cmd->add_flag("--hardlink", o->hardlink,
                "Make a hard-link store: a directory of hard links to the "
                "captured files and an unencrypted catalog (ScanState "
                "/hardlink; for a refresh of the same machine)");
  cmd->add_option("--hardlink-fallback", o->hardlink_fallback,
                  "A file that cannot be linked (another filesystem): copy "
                  "it into the store with a note, or make it an error")
      ->check(CLI::IsMember({"copy", "error"}));
  cmd->add_option("--list-files", o->list_files,
                  "Write every entry captured to this file");
  AddKeyOptions(cmd, &o->key, /*capture=*/true);
  return cmd;
}

CLI::App* AddEstimateCommand(CLI::App* app, CaptureCommandOptions* o) {
  CLI::App* cmd =
      app->add_subcommand("estimate",
                          "Count what a capture would take and estimate the "
                          "store's size (ScanState /p)");
  AddCaptureCommonOptions(cmd, o);
  cmd->add_option("--premigration", o->premigration,
                  "Also write the estimate as ScanState /p:FILE's "
                  "<PreMigration> XML");
  cmd->add_flag("--overwrite", o->overwrite,
                "Replace an existing --premigration file");
  return cmd;
}

int RunCapture(const CaptureCommandOptions& given) {
  CaptureCommandOptions o = given;
  Status automatic =
      ApplyAutoOption(o.auto_rules, &o.selection.rules, &o.verbosity);
  if (!automatic.ok()) return Fail("capture", automatic);
  Status choice = CheckStoreChoice(o.store, o.smp, o.key);
  if (!choice.ok()) return Fail("capture", choice);
  std::optional<SmpClient> smp;
  if (!o.smp.server.empty()) {
    Result<SmpClient> client = ConnectSmp(o.smp, "capture");
    if (!client.ok()) return Fail("capture", client.status());
    smp.emplace(std::move(*client));
  }
  auto key = ResolveKey(o.key, "capture");
  if (!key.ok()) return Fail("capture", key.status());
  auto opts = ToCaptureOptions(o);
  if (!opts.ok()) return Fail("capture", opts.status());
  opts->key = *key;
  Outputs out;
  Status s = OpenOutputs(o, "migstore capture", &out);
  if (!s.ok()) return Fail("capture", s);
  CommandObserver observer(out.log.get(), out.progress.get(), out.list);
  if (out.verbose()) {
    observer.set_windows_objects(WindowsRoot(o.selection), o.selection.root);
  }
  // With --smp: Request State Store, capture, Release State Store; the
  // server makes the store and its key.
  SmpStore store;
  Result<CaptureReport> report =
      smp ? smp->Capture(*opts, &observer, &store) : Capture(*opts, &observer);
  if (smp && report.ok() && !o.json) {
    std::printf("state migration point: store %s released (%s -> %s)\n",
                store.id.c_str(), DisplayText(store.source).c_str(),
                DisplayText(store.destination).c_str());
  }
  observer.Done();
  if (!report.ok()) return out.Finish("capture", report.status(), 0);

  PrintDiagnostics(report->rule_diagnostics);
  if (out.log) {
    for (const std::string& d : report->rule_diagnostics)
      out.log->Warning(DisplayText(d));
  }
  if (o.json) {
    JsonWriter j(stdout);
    j.BeginObject();
    j.Key("command");
    j.String("capture");
    j.Key("store");
    j.String(report->store_path);
    j.Key("root");
    j.String(report->root);
    j.Key("layout");
    j.String(report->layout);
    j.Key("encrypted");
    j.Bool(opts->encrypt);
    j.Key("cipher");
    j.String(opts->encrypt
                 ? CipherName(opts->cipher.value_or(Cipher::kXChaCha20Poly1305))
                 : "none");
    j.Key("hardlink");
    j.Bool(report->hardlink);
    WriteUsersJson(&j, report->users);
    j.Numbers({{"files", report->files},
               {"directories", report->directories},
               {"symlinks", report->symlinks},
               {"fifos", report->fifos},
               {"bytes", report->bytes},
               {"duplicate_files", report->duplicate_files},
               {"duplicate_bytes", report->duplicate_bytes},
               {"hardlinked_files", report->hardlinked_files},
               {"sparse_files", report->sparse_files},
               {"stored_bytes", report->stored_bytes},
               {"store_size", report->store_size},
               {"linked_files", report->linked_files},
               {"copied_files", report->copied_files},
               {"registry_keys", report->registry_keys},
               {"registry_values", report->registry_values},
               {"base_files", report->base_files},
               {"base_bytes", report->base_bytes},
               {"base_files_read_again", report->base_files_read_again}});
    j.Key("seconds");
    j.Number(report->seconds);
    WriteIssuesJson(&j, report->errors, report->notes);
    j.Key("exit_code");
    j.Number(static_cast<uint64_t>(report->errors.empty() ? 0 : 3));
    j.EndObject();
  } else {
    size_t selected = 0;
    for (const CaptureUser& u : report->users) selected += u.selected;
    std::printf("captured %zu of %zu users from %s (%s) into %s\n", selected,
                report->users.size(), report->root.c_str(),
                report->layout.c_str(), report->store_path.c_str());
    std::printf(
        "  %llu files (%s), %llu directories, %llu symlinks, %llu fifos\n",
        static_cast<unsigned long long>(report->files),
        HumanBytes(report->bytes).c_str(),
        static_cast<unsigned long long>(report->directories),
        static_cast<unsigned long long>(report->symlinks),
        static_cast<unsigned long long>(report->fifos));
    const std::string protection =
        opts->encrypt ? std::string("encrypted with a ") + key->kind() + " (" +
                            CipherName(opts->cipher.value_or(
                                Cipher::kXChaCha20Poly1305)) +
                            ")"
                      : "not encrypted";
    if (report->hardlink) {
      std::printf(
          "  hard-link store: %llu files linked, %llu copied (%s); catalog "
          "and copies %s; %.1f s\n",
          static_cast<unsigned long long>(report->linked_files),
          static_cast<unsigned long long>(report->copied_files),
          HumanBytes(report->stored_bytes).c_str(),
          HumanBytes(report->store_size).c_str(), report->seconds);
    } else {
      std::printf(
          "  %llu duplicate files (%s) stored once; store %s, %s; %.1f s\n",
          static_cast<unsigned long long>(report->duplicate_files),
          HumanBytes(report->duplicate_bytes).c_str(),
          HumanBytes(report->store_size).c_str(), protection.c_str(),
          report->seconds);
    }
    if (!opts->base_store.empty()) {
      std::printf(
          "  %llu unchanged files (%s) taken from the base store %s without "
          "reading them; %llu read again\n",
          static_cast<unsigned long long>(report->base_files),
          HumanBytes(report->base_bytes).c_str(), opts->base_store.c_str(),
          static_cast<unsigned long long>(report->base_files_read_again));
    }
    if (report->registry_keys + report->registry_values > 0) {
      std::printf("  settings: %llu registry values, %llu keys\n",
                  static_cast<unsigned long long>(report->registry_values),
                  static_cast<unsigned long long>(report->registry_keys));
    }
    if (!report->errors.empty()) {
      std::printf(
          "  %zu files could not be captured and were skipped (see above)\n",
          report->errors.size());
    }
  }
  return out.Finish("capture", Status::OK(), report->errors.size());
}

namespace {

// ScanState /p:File's XML (usmt.md §1): the store's estimated size, with
// the cluster size of the filesystem the file goes to, and the temporary
// space the capture needs, which is none: a store is written in place.
std::string PreMigrationXml(const EstimateReport& r, const std::string& path) {
  struct statvfs fs {};
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const unsigned long cluster =
      ::statvfs(dir.c_str(), &fs) == 0 && fs.f_bsize > 0 ? fs.f_bsize : 4096;
  char xml[512];
  std::snprintf(xml, sizeof(xml),
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<PreMigration>\n"
                "  <storeSize>\n"
                "    <size clusterSize=\"%lu\">%llu</size>\n"
                "  </storeSize>\n"
                "  <temporarySpace>\n"
                "    <size>0</size>\n"
                "  </temporarySpace>\n"
                "</PreMigration>\n",
                cluster,
                static_cast<unsigned long long>(r.estimated_store_size));
  return xml;
}

}  // namespace

int RunEstimate(const CaptureCommandOptions& given) {
  CaptureCommandOptions o = given;
  Status automatic =
      ApplyAutoOption(o.auto_rules, &o.selection.rules, &o.verbosity);
  if (!automatic.ok()) return Fail("estimate", automatic);
  CaptureCommandOptions without_key = o;
  without_key.key.no_encrypt = true;
  auto opts = ToCaptureOptions(without_key);
  if (!opts.ok()) return Fail("estimate", opts.status());
  Outputs out;
  Status s = OpenOutputs(o, "migstore estimate", &out);
  if (!s.ok()) return Fail("estimate", s);
  // An estimate stores nothing: its log names no object.
  CommandObserver observer(out.log.get(), out.progress.get(), nullptr);
  auto report = Estimate(*opts, &observer);
  observer.Done();
  if (!report.ok()) return out.Finish("estimate", report.status(), 0);
  PrintDiagnostics(report->rule_diagnostics);
  if (!o.premigration.empty()) {
    s = WriteWhole(o.premigration, PreMigrationXml(*report, o.premigration),
                   o.overwrite);
    if (!s.ok()) return out.Finish("estimate", s, 0);
  }
  if (o.json) {
    JsonWriter j(stdout);
    j.BeginObject();
    j.Key("command");
    j.String("estimate");
    WriteUsersJson(&j, report->users);
    j.Numbers({{"files", report->files},
               {"directories", report->directories},
               {"symlinks", report->symlinks},
               {"fifos", report->fifos},
               {"bytes", report->bytes},
               {"data_bytes", report->data_bytes},
               {"sampled_bytes", report->sampled_bytes},
               {"estimated_store_size", report->estimated_store_size}});
    j.Key("compression_ratio");
    j.Number(report->compression_ratio);
    WriteIssuesJson(&j, report->errors, report->notes);
    j.EndObject();
  } else {
    std::printf(
        "%llu files (%s, %s without holes), %llu directories, %llu symlinks\n",
        static_cast<unsigned long long>(report->files),
        HumanBytes(report->bytes).c_str(),
        HumanBytes(report->data_bytes).c_str(),
        static_cast<unsigned long long>(report->directories),
        static_cast<unsigned long long>(report->symlinks));
    std::printf("compression ratio %.2f (from %s sampled)\n",
                report->compression_ratio,
                HumanBytes(report->sampled_bytes).c_str());
    std::printf("estimated store size: %s (%llu bytes)\n",
                HumanBytes(report->estimated_store_size).c_str(),
                static_cast<unsigned long long>(report->estimated_store_size));
    if (!report->errors.empty()) {
      std::printf("%zu files could not be read\n", report->errors.size());
    }
  }
  return out.Finish("estimate", Status::OK(), 0);
}

}  // namespace migstore::cli
