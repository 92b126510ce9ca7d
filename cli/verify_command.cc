#include "verify_command.h"

#include <cstdio>
#include <memory>

#include "cli_common.h"
#include "json_writer.h"
#include "migstore/build_info.h"
#include "migstore/usmt_log.h"
#include "migstore/verify.h"
#include "progress_line.h"

namespace migstore::cli {
namespace {

// Prints UsmtUtils' `name<TAB>OK|CORRUPTED` lines as verdicts arrive (all
// of them, or only the corrupted), and logs them.
class VerifyObserver : public RestoreObserver {
 public:
  VerifyObserver(bool print, bool print_failures_only, UsmtLog* log)
      : print_(print), failures_only_(print_failures_only), log_(log) {}

  void OnProgress(const RestoreProgress& p) override {
    line_.Update(p.phase, p.files_done, p.files_total, p.bytes_done,
                 p.bytes_total, p.seconds);
    if (log_ != nullptr && phase_ != p.phase) {
      phase_ = p.phase;
      if (phase_ != "Done") log_->Status("Phase: " + phase_);
    }
  }
  void OnVerified(const std::string& path, const Status& status) override {
    line_.Clear();
    if (print_ && (!failures_only_ || !status.ok())) {
      std::printf("%s\t%s\n", DisplayBytes(path).c_str(),
                  status.ok() ? "OK" : "CORRUPTED");
    }
    if (status.ok() && log_ != nullptr && log_->verbose()) {
      log_->Info("Verify " + DisplayBytes(path) + ": OK");
    } else if (!status.ok() && log_ != nullptr) {
      log_->Error("Corrupted file " + DisplayBytes(path) + ": " +
                      DisplayText(status.ToString()),
                  0, false);
    }
  }
  void Done() { line_.Clear(); }

 private:
  bool print_;
  bool failures_only_;
  UsmtLog* log_;
  ProgressLine line_;
  std::string phase_;
};

}  // namespace

CLI::App* AddVerifyCommand(CLI::App* app, VerifyCommandOptions* o) {
  CLI::App* cmd = app->add_subcommand(
      "verify",
      "Check a store's catalog and every file's data (UsmtUtils /verify)");
  cmd->add_option("--store", o->store,
                  "The store: a file, s3://BUCKET/KEY, or a hard-link "
                  "store's directory")
      ->required();
  cmd->add_option("--mode", o->mode,
                  "summary (counts), all (every file: path<TAB>OK|CORRUPTED), "
                  "failures (the "
                  "damaged only) or catalog (the catalog only)")
      ->check(CLI::IsMember(
          {"summary", "all", "failures", "failureonly", "catalog"}))
      ->capture_default_str();
  AddKeyOptions(cmd, &o->key, /*capture=*/false);
  cmd->add_option("--threads", o->threads,
                  "Worker threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--log", o->log, "Main log in USMT's format (appended)");
  AddVerbosityOption(cmd, &o->verbosity);
  cmd->add_flag("--json", o->json,
                "Print a machine-readable report on standard output");
  return cmd;
}

int RunVerify(const VerifyCommandOptions& o) {
  auto key = ResolveKey(o.key, "verify");
  if (!key.ok()) return Fail("verify", key.status());
  auto mode = ParseVerifyMode(o.mode);
  if (!mode.ok()) return Fail("verify", mode.status());
  std::unique_ptr<UsmtLog> log;
  if (!o.log.empty()) {
    auto opened = UsmtLog::Open(o.log);
    if (!opened.ok()) return Fail("verify", opened.status());
    log = std::move(opened).value();
    log->SetVerbosity(o.verbosity < 0 ? UsmtLog::kDefaultVerbosity
                                      : static_cast<unsigned>(o.verbosity));
    log->Info(std::string("migstore verify ") + Version() + " (migstore)");
    log->Info("Command line: " + JoinArgs(o.argv));
  }
  VerifyOptions v;
  v.store_path = o.store;
  v.key = *key;
  v.key_policy = PolicyOf(o.key);
  v.mode = *mode;
  // A verbose log records every file verified: the engine reports each
  // verdict in mode all only (the same reads, more calls). Any log records
  // each corrupted file, which mode summary does not report: failures then.
  if (log && log->verbose() && *mode != VerifyMode::kCatalog) {
    v.mode = VerifyMode::kAll;
  } else if (log && *mode == VerifyMode::kSummary) {
    v.mode = VerifyMode::kFailures;
  }
  v.threads = o.threads;
  const bool lines =
      !o.json && (*mode == VerifyMode::kAll || *mode == VerifyMode::kFailures);
  VerifyObserver observer(lines, *mode == VerifyMode::kFailures, log.get());
  auto report = Verify(v, &observer);
  observer.Done();
  if (!report.ok()) {
    if (log) {
      log->Finish("Failed: " + DisplayText(report.status().ToString()), 0);
    }
    return Fail("verify", report.status());
  }
  for (const std::string& d : report->catalog_damage) {
    const std::string shown = DisplayText(d);  // may quote the catalog
    std::fprintf(stderr, "migstore verify: %s\n", shown.c_str());
    if (log) log->Error("Corrupted catalog: " + shown, 0, false);
  }
  const char* catalog = report->catalog_intact ? "OK" : "CORRUPTED";
  const int code =
      Code(report->intact() ? ExitCode::kSuccess : ExitCode::kCorruptedStore);
  if (o.json) {
    JsonWriter j(stdout);
    j.BeginObject();
    j.Key("command");
    j.String("verify");
    j.Key("store");
    j.String(o.store);
    j.Key("mode");
    j.String(VerifyModeName(*mode));
    j.Numbers({{"entries", report->entries},
               {"files", report->files},
               {"intact", report->files_intact},
               {"damaged", report->files_damaged},
               {"entries_lost", report->entries_lost},
               {"blocks_opened", report->blocks_opened},
               {"store_bytes_read", report->store_bytes_read}});
    j.Key("catalog");
    j.String(catalog);
    j.Key("catalog_damage");
    j.BeginArray();
    for (const std::string& d : report->catalog_damage) j.String(d);
    j.EndArray();
    j.Key("damaged_files");
    j.BeginArray();
    for (const FileIssue& f : report->damaged) {
      j.BeginObject();
      j.Key("path");
      j.String(f.path);
      j.Key("message");
      j.String(f.status.ToString());
      j.EndObject();
    }
    j.EndArray();
    j.Key("seconds");
    j.Number(report->seconds);
    j.Key("exit_code");
    j.Number(static_cast<uint64_t>(code));
    j.EndObject();
  } else if (*mode == VerifyMode::kSummary) {
    std::printf(
        "store %s: %llu files intact, %llu corrupted; catalog %s",
        o.store.c_str(), static_cast<unsigned long long>(report->files_intact),
        static_cast<unsigned long long>(report->files_damaged), catalog);
    if (report->entries_lost > 0) {
      std::printf(" (%llu entries cannot be read)",
                  static_cast<unsigned long long>(report->entries_lost));
    }
    std::printf("\n");
  } else if (*mode == VerifyMode::kCatalog || !report->catalog_intact ||
             *mode == VerifyMode::kAll) {
    std::printf("CATALOG\t%s\n", catalog);
  }
  if (log) {
    log->Finish(report->intact()
                    ? std::string()
                    : "Failed: the store is damaged (" +
                          std::to_string(report->files_damaged) +
                          " files corrupted, catalog " + catalog + ")",
                0);
  }
  return code;
}

}  // namespace migstore::cli
