#include "engine/src/rules/error_control.h"

#include <cerrno>
#include <charconv>

#include "engine/base/case_fold.h"
#include "engine/src/rules/expand.h"
#include "engine/src/rules/pattern_index.h"
#include "engine/src/rules/registry_pattern.h"
#include "engine/src/rules/rule_model.h"
#include "engine/src/rules/usmt_pattern.h"
#include "engine/src/rules/variables.h"

namespace migstore::internal {

uint32_t WindowsErrorOf(const Status& status) {
  if (status.IsCorruption()) return 1392;  // ERROR_FILE_CORRUPT
  // Statuses made without an errno still say what happened.
  if (status.IsNotFound()) return 2;        // ERROR_FILE_NOT_FOUND
  if (status.IsAlreadyExists()) return 80;  // ERROR_FILE_EXISTS
  switch (status.sys_errno()) {
    case ENOENT:
      return 2;  // ERROR_FILE_NOT_FOUND
    case ENOTDIR:
      return 3;  // ERROR_PATH_NOT_FOUND
    case EMFILE:
    case ENFILE:
      return 4;  // ERROR_TOO_MANY_OPEN_FILES
    case EACCES:
    case EPERM:
      return 5;  // ERROR_ACCESS_DENIED
    case ENOMEM:
      return 8;  // ERROR_NOT_ENOUGH_MEMORY
    case EROFS:
      return 19;  // ERROR_WRITE_PROTECT
    case EBUSY:
    case ETXTBSY:
      return 32;  // ERROR_SHARING_VIOLATION
    case EAGAIN:
      return 33;  // ERROR_LOCK_VIOLATION
    case EEXIST:
      return 80;  // ERROR_FILE_EXISTS
    case ENOSPC:
      return 112;  // ERROR_DISK_FULL
    case ENAMETOOLONG:
      return 206;  // ERROR_FILENAME_EXCED_RANGE
    case EIO:
      return 1117;  // ERROR_IO_DEVICE
    case ELOOP:
      return 1921;  // ERROR_CANT_RESOLVE_FILENAME
    default:
      return 0;
  }
}

struct ErrorControl::Data {
  struct Rule {
    bool fatal = false;
    bool any = false;
    uint32_t code = 0;
    std::string text;  // for messages
  };
  std::vector<Rule> rules;  // in file order
  bool fold = false;        // file paths compare without case (Windows)
  PatternIndex files;       // pattern.rule indexes `rules`
  PatternIndex registry;
};

ErrorControl::ErrorControl() = default;
ErrorControl::~ErrorControl() = default;
ErrorControl::ErrorControl(ErrorControl&&) noexcept = default;
ErrorControl& ErrorControl::operator=(ErrorControl&&) noexcept = default;

bool ErrorControl::empty() const { return !d_ || d_->rules.empty(); }

ErrorControl ErrorControl::Compile(const RuleSet& rules, const Machine& m,
                                   std::vector<RuleDiagnostic>* diagnostics) {
  const RuleSetData& rs = RuleSetAccess::Data(rules);
  ErrorControl out;
  if (!rs.has_config) return out;
  auto d = std::make_unique<Data>();
  const bool fold = m.layout == Layout::kWindows;
  d->fold = fold;
  auto note = [&](const PolicyRule& p, const std::string& message) {
    diagnostics->push_back({RuleDiagnostic::Severity::kWarning,
                            rs.files[p.loc.file], p.loc.line, p.loc.column,
                            message});
  };
  for (const PolicyRule& p : rs.config.policies) {
    const bool files = p.section == "fileError";
    if (!files && p.section != "registryError") continue;
    if (p.kind != "nonFatal" && p.kind != "fatal") continue;
    Data::Rule r;
    r.fatal = p.kind == "fatal";
    r.text = rs.files[p.loc.file] + ":" + std::to_string(p.loc.line) + ": <" +
             p.kind + " errorCode=\"" + p.code + "\">" + p.pattern;
    if (EqualsFolded(p.code, "any")) {
      r.any = true;
    } else {
      auto [end, ec] =
          std::from_chars(p.code.data(), p.code.data() + p.code.size(), r.code);
      if (ec != std::errc() || end != p.code.data() + p.code.size()) {
        note(p, "errorCode \"" + p.code +
                    "\" is neither a number nor \"any\"; rule not applied");
        continue;
      }
    }
    std::string expanded, missing;
    if (!ExpandUsmt(p.pattern, Variables(m, nullptr), {}, &expanded,
                    &missing)) {
      note(p, "%" + missing +
                  "% is not defined for <ErrorControl> here; "
                  "rule not applied");
      continue;
    }
    const auto id = static_cast<uint32_t>(d->rules.size());
    std::vector<std::string> texts;
    if (files) {
      texts.push_back(expanded);
    } else {
      std::string_view rest;
      const bool per_user =
          RegistryRootOf(expanded, &rest) == RegistryRoot::kCurrentUser;
      for (int32_t u = per_user ? 0 : -1;
           u < (per_user ? static_cast<int32_t>(m.profiles.size()) : 0); ++u) {
        std::string text, why;
        if (!RegistryPatternText(expanded, u, &text, &why)) {
          note(p, why + "; rule not applied");
          break;
        }
        texts.push_back(std::move(text));
      }
    }
    bool added = false;
    for (const std::string& text : texts) {
      PatternParts parts;
      UsmtPatternError error;
      if (!ParseUsmtPattern(text, &parts, &error, !files)) {
        note(p, error.message + "; rule not applied");
        break;
      }
      (files ? d->files : d->registry)
          .Add(MakePattern(std::move(parts), fold || !files, id));
      added = true;
    }
    if (added) d->rules.push_back(std::move(r));
  }
  out.d_ = std::move(d);
  return out;
}

namespace {

// The first rule (lowest id) among `ids` whose code matches.
ErrorControl::Verdict First(const std::vector<uint32_t>& ids,
                            const std::vector<ErrorControl::Data::Rule>& rules,
                            uint32_t code) {
  ErrorControl::Verdict v;
  uint32_t best = UINT32_MAX;
  for (uint32_t id : ids) {
    const auto& r = rules[id];
    if (id < best && (r.any || (code != 0 && r.code == code))) best = id;
  }
  if (best == UINT32_MAX) return v;
  v.kind = rules[best].fatal ? ErrorControl::Kind::kFatal
                             : ErrorControl::Kind::kNonFatal;
  v.rule = rules[best].text;
  return v;
}

}  // namespace

ErrorControl::Verdict ErrorControl::ForFile(std::string_view path,
                                            const Status& error) const {
  if (empty()) return {};
  std::string slashed = "/" + std::string(path);
  if (d_->fold) {
    for (char& c : slashed) c = FoldAscii(c);
  }
  size_t slash = slashed.rfind('/');
  std::vector<uint32_t> ids;
  PathOwner owner;
  d_->files.ForFile(
      std::string_view(slashed).substr(0, slash),
      std::string_view(slashed).substr(slash + 1), &owner,
      [&](uint32_t pid) { ids.push_back(d_->files.pattern(pid).rule); });
  return First(ids, d_->rules, WindowsErrorOf(error));
}

ErrorControl::Verdict ErrorControl::ForRegistry(std::string_view key,
                                                int32_t profile,
                                                const Status& error) const {
  if (empty()) return {};
  std::string path = RegistryMatchPath(key, profile);
  if (path.empty()) return {};
  for (char& c : path) c = FoldAscii(c);
  std::vector<uint32_t> ids;
  PathOwner owner;
  auto collect = [&](uint32_t pid) {
    ids.push_back(d_->registry.pattern(pid).rule);
  };
  // The key as a node ("HKCU\Software\* [*]" covers it), and as an entry
  // of its parent.
  d_->registry.ForDirectory(path, &owner, collect);
  return First(ids, d_->rules, WindowsErrorOf(error));
}

}  // namespace migstore::internal
