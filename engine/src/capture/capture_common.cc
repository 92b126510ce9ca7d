#include "engine/src/capture/capture_common.h"

#include <sys/stat.h>
#include <unistd.h>

#include <oneapi/tbb/info.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "engine/src/capture/owner_names.h"
#include "engine/src/processing/run_processing.h"
#include "engine/src/profiles/catalog_profile.h"
#include "engine/src/registry/registry_capture.h"
#include "format/file_io.h"
#include "format/limits.h"
#include "migstore/build_info.h"
#include "migstore/rules.h"

namespace migstore::capture {
namespace {

// The captured system's host name: ROOT/etc/hostname, or this machine's
// when the root is "/".
std::string HostName(const std::string& root) {
  std::string base = root == "/" ? std::string() : root;
  if (auto t = format::ReadSmallFile(base + "/etc/hostname", 4096); t.ok()) {
    std::string h = *t;
    while (!h.empty() &&
           (h.back() == '\n' || h.back() == '\r' || h.back() == ' '))
      h.pop_back();
    if (!h.empty()) return h;
  }
  if (root != "/") return "";
  char buf[256] = {};
  return ::gethostname(buf, sizeof(buf) - 1) == 0 ? std::string(buf)
                                                  : std::string();
}

}  // namespace

Status ValidateCommon(const CaptureOptions& o) {
  if (o.root.empty()) return Status::InvalidArgument("the root is empty");
  if (o.threads < 0 || o.threads > 1024)
    return Status::InvalidArgument("--threads out of range");
  if (o.level < -5 || o.level > 19) {
    return Status::InvalidArgument("--level must be between -5 and 19");
  }
  if (o.block_size < 64 * 1024 ||
      o.block_size > format::limits::kMaxBlockPlain) {
    return Status::InvalidArgument(
        "block size must be between 64 KiB and 16 MiB");
  }
  if (o.dedup_memory < 48 * 1024)
    return Status::InvalidArgument("the duplicate table needs at least 48 KiB");
  if (o.window_entries == 0)
    return Status::InvalidArgument("window_entries must be at least 1");
  if (o.catalog_segment_entries == 0 ||
      o.catalog_segment_entries > format::limits::kMaxEntriesPerSegment) {
    return Status::InvalidArgument(
        "catalog_segment_entries must be between 1 and " +
        std::to_string(format::limits::kMaxEntriesPerSegment));
  }
  // A cipher asked for must not be dropped without a word: it seals only
  // what a key protects.
  if (o.cipher && (o.hardlink || !o.encrypt)) {
    return Status::InvalidArgument(
        std::string("--cipher ") + CipherName(*o.cipher) +
        " chooses how an encrypted store is sealed, and this one is not "
        "encrypted (" +
        (o.hardlink ? "a hard-link store" : "--no-encrypt") + ")");
  }
  if (o.cipher && !o.key.encrypted()) {
    return Status::InvalidArgument(
        std::string("--cipher ") + CipherName(*o.cipher) +
        " needs a key to seal the store with: give a key file or a password "
        "(--key-file, --password-file, MIGSTORE_PASSWORD, --password-stdin)");
  }
  return Status::OK();
}

format::BlockCipher BlockCipherOf(const CaptureOptions& o) {
  return o.cipher == Cipher::kAes256Gcm
             ? format::BlockCipher::kAes256Gcm
             : format::BlockCipher::kXChaCha20Poly1305;
}

Result<Selection> Select(const CaptureOptions& o) {
  Selection s;
  DiscoverOptions d;
  d.root = o.root;
  d.layout = o.layout;
  MIGSTORE_ASSIGN_OR_RETURN(s.machine, DiscoverMachine(d));
  MIGSTORE_ASSIGN_OR_RETURN(s.choices, SelectUsers(s.machine, o.users));
  RuleSet rules;
  for (const std::string& f : o.rules_files)
    MIGSTORE_RETURN_IF_ERROR(rules.AddFile(f));
  if (!o.config_file.empty())
    MIGSTORE_RETURN_IF_ERROR(rules.SetConfigFile(o.config_file));
  if (o.rules_files.empty()) rules.AddBuiltIn(s.machine.layout);
  MIGSTORE_ASSIGN_OR_RETURN(s.matcher,
                            CompileRules(rules, s.machine, s.choices));
  for (const RuleDiagnostic& diag : s.matcher.diagnostics()) {
    s.diagnostics.push_back(diag.ToString());
  }
  std::vector<RuleDiagnostic> ec_diagnostics;
  s.error_control =
      internal::ErrorControl::Compile(rules, s.machine, &ec_diagnostics);
  for (const RuleDiagnostic& diag : ec_diagnostics) {
    s.diagnostics.push_back(diag.ToString());
  }
  for (const UserChoice& c : s.choices) {
    const UserProfile& p = s.machine.profiles[c.profile];
    s.users.push_back({p.name, p.home, c.selected, c.reason});
  }
  return s;
}

WalkOptions WalkOptionsFor(const CaptureOptions& o, const Selection& sel,
                           CaptureReporter* reporter) {
  WalkOptions w;
  w.root = o.root;
  w.machine = &sel.machine;
  w.matcher = &sel.matcher;
  w.cross_mounts = o.cross_mounts;
  w.local_only = o.local_only;
  w.cancel = reporter->cancel_flag();
  w.tick = [reporter] { reporter->Poll(); };
  return w;
}

CaptureReport NewReport(const CaptureOptions& o, const Selection& sel) {
  CaptureReport report;
  report.store_path = o.store_path;
  report.root = o.root;
  report.layout = LayoutName(sel.machine.layout);
  report.users = sel.users;
  report.rule_diagnostics = sel.diagnostics;
  return report;
}

namespace {

// An error, with the <ErrorControl> verdict on it.
Status Decide(const CaptureOptions& o, const internal::ErrorControl::Verdict& v,
              CaptureReporter* reporter, CaptureReport* report,
              const std::string& path, const Status& error) {
  FileIssue issue{path, error};
  issue.skipped = v.Skips(o.continue_on_error);
  reporter->Error(issue);
  if (!issue.skipped) return v.Stop(path, error);
  report->errors.push_back(std::move(issue));
  return Status::OK();
}

}  // namespace

Status FileError(const CaptureOptions& o, const Selection& sel,
                 CaptureReporter* reporter, CaptureReport* report,
                 const std::string& path, const Status& error) {
  return Decide(o, sel.error_control.ForFile(path, error), reporter, report,
                path, error);
}

Result<WalkResult> WalkSelection(const CaptureOptions& o, const Selection& sel,
                                 const WalkOptions& wopt,
                                 CaptureReporter* reporter,
                                 CaptureReport* report) {
  MIGSTORE_ASSIGN_OR_RETURN(WalkResult walked, Walk(wopt));
  for (const WalkNote& n : walked.notes) {
    FileNote note{n.path, n.what};
    reporter->Note(note);
    report->notes.push_back(std::move(note));
  }
  for (const WalkError& e : walked.errors) {
    MIGSTORE_RETURN_IF_ERROR(
        FileError(o, sel, reporter, report, e.path, e.status));
  }
  walked.errors.clear();
  walked.notes.clear();
  return walked;
}

int Threads(const CaptureOptions& o) {
  if (o.threads > 0) return o.threads;
  return std::max(1, tbb::info::default_concurrency());
}

std::unique_ptr<format::SpillFile> SortWalkThroughScratch(
    const CaptureOptions& o, const std::vector<std::string>& dirs,
    WalkOptions* wopt) {
  auto spill = format::SpillFile::Create(dirs);
  if (!spill.ok()) return nullptr;
  wopt->spill = spill->get();
  wopt->run_entries =
      std::max<size_t>(1, o.window_entries / static_cast<size_t>(Threads(o)));
  return std::move(*spill);
}

Status WriteStoreTables(const CaptureOptions& o, const Selection& sel,
                        const std::string& layout_name, const Owners& owners,
                        format::ContainerWriter* w,
                        std::vector<uint32_t>* profile_number) {
  profile_number->assign(sel.machine.profiles.size(), format::kNoProfile);
  for (const UserChoice& c : sel.choices) {
    if (!c.selected) continue;
    MIGSTORE_ASSIGN_OR_RETURN((*profile_number)[c.profile],
                              w->AddProfile(internal::ToCatalogProfile(
                                  sel.machine.profiles[c.profile])));
  }
  OwnerNames names = ReadOwnerNames(o.root);
  for (uint32_t id : owners.uids) {
    if (auto it = names.users.find(id); it != names.users.end())
      MIGSTORE_RETURN_IF_ERROR(w->SetOwnerName(id, it->second));
  }
  for (uint32_t id : owners.gids) {
    if (auto it = names.groups.find(id); it != names.groups.end())
      MIGSTORE_RETURN_IF_ERROR(w->SetGroupName(id, it->second));
  }
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (auto [k, v] : {std::pair<std::string, std::string>{
                          "creator", std::string("migstore ") + Version()},
                      {"host", HostName(o.root)},
                      {"created", std::to_string(now_ns)},
                      {"layout", layout_name},
                      {"root", o.root}}) {
    MIGSTORE_RETURN_IF_ERROR(w->SetProperty(k, std::move(v)));
  }
  return Status::OK();
}

Status CaptureSettings(const CaptureOptions& o, const Selection& sel,
                       const std::vector<uint32_t>& profile_number,
                       format::ContainerWriter* w, CaptureReporter* reporter,
                       CaptureReport* report) {
  registry::RegistryCaptureResult r =
      registry::CaptureRegistry(sel.machine, sel.matcher, profile_number);
  for (registry::HiveIssue& n : r.notes) {
    FileNote note{std::move(n.path), std::move(n.what)};
    reporter->Note(note);
    report->notes.push_back(std::move(note));
  }
  // A hive that cannot be read is a registry error (<registryError>) of
  // the part of the registry it holds.
  for (const registry::HiveIssue& e : r.errors) {
    MIGSTORE_RETURN_IF_ERROR(
        Decide(o, sel.error_control.ForRegistry(e.key, e.profile, e.status),
               reporter, report, e.path, e.status));
  }
  report->registry_keys = r.keys;
  report->registry_values = r.values;
  return w->AddRegistryRecords(std::move(r.records));
}

namespace {

// The steps at `when`: notes to the report; the errors returned.
std::vector<FileIssue> RunSteps(const CaptureOptions& o, const Selection& sel,
                                std::string_view when,
                                CaptureReporter* reporter,
                                CaptureReport* report) {
  processing::ProcessingResult r =
      processing::Run(sel.matcher, when, o.root, o.allow_processing);
  for (FileNote& n : r.notes) {
    reporter->Note(n);
    report->notes.push_back(std::move(n));
  }
  return std::move(r.errors);
}

}  // namespace

Status Process(const CaptureOptions& o, const Selection& sel,
               std::string_view when, CaptureReporter* reporter,
               CaptureReport* report) {
  for (FileIssue& e : RunSteps(o, sel, when, reporter, report)) {
    MIGSTORE_RETURN_IF_ERROR(
        FileError(o, sel, reporter, report, e.path, e.status));
  }
  return Status::OK();
}

void AfterCapture(const CaptureOptions& o, const Selection& sel, bool succeeded,
                  CaptureReporter* reporter, CaptureReport* report) {
  for (const char* when : {"scan-success", "post-scan"}) {
    if (!succeeded && std::string_view(when) == "scan-success") continue;
    for (FileIssue& e : RunSteps(o, sel, when, reporter, report)) {
      e.skipped = true;
      reporter->Error(e);
      report->errors.push_back(std::move(e));
    }
  }
}

}  // namespace migstore::capture

namespace migstore {

const char* CipherName(Cipher cipher) {
  return format::CipherName(cipher == Cipher::kAes256Gcm
                                ? format::BlockCipher::kAes256Gcm
                                : format::BlockCipher::kXChaCha20Poly1305);
}

Result<Cipher> ParseCipher(std::string_view name) {
  for (Cipher c : {Cipher::kXChaCha20Poly1305, Cipher::kAes256Gcm}) {
    if (name == CipherName(c)) return c;
  }
  return Status::InvalidArgument(
      "the cipher must be xchacha20-poly1305 or aes-256-gcm", name);
}

}  // namespace migstore
