// Matcher::ForRestore: the <merge> and <locationModify> rules a restore
// applies to one path. USMT picks the most specific rule of each kind
// (usmt.md §2: "C:\sub\* [*]" beats "C:\* [*]"); among equally specific
// rules the first loaded wins, so the answer does not depend on threads.

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/precedence.h"
#include "migstore/matcher.h"

namespace migstore {

bool Matcher::has_restore_rules() const {
  return data_ != nullptr && !data_->restore_rules.empty();
}

RestoreDirectives Matcher::ForRestore(std::string_view path,
                                      EntryKind kind) const {
  RestoreDirectives out;
  if (!has_restore_rules()) return out;
  const internal::MatcherData& m = *data_;
  std::string_view p = path;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return out;
  std::string slashed = "/" + std::string(p);
  if (m.fold) slashed = internal::FoldedCopy(slashed);

  std::vector<uint32_t> hits;
  auto collect = [&](uint32_t pid) {
    hits.push_back(m.restore.pattern(pid).rule);
  };
  if (kind == EntryKind::kDirectory) {
    m.restore.ForDirectory(slashed, nullptr, collect);
  } else {
    size_t slash = slashed.rfind('/');
    m.restore.ForFile(std::string_view(slashed).substr(0, slash),
                      std::string_view(slashed).substr(slash + 1), nullptr,
                      collect);
  }
  const internal::RestoreRule* best[2] = {nullptr, nullptr};
  uint32_t best_id[2] = {0, 0};
  for (uint32_t h : hits) {
    const internal::RestoreRule& r = m.restore_rules[h];
    int k = r.kind == internal::RestoreSpec::Kind::kMerge ? 0 : 1;
    if (best[k] == nullptr || internal::MoreSpecific(r.spec, best[k]->spec) ||
        (!internal::MoreSpecific(best[k]->spec, r.spec) && h < best_id[k])) {
      best[k] = &r;
      best_id[k] = h;
    }
  }
  for (int k = 0; k < 2; ++k) {
    if (best[k] == nullptr) continue;
    RestoreDirective d;
    d.function = best[k]->function;
    d.args = best[k]->args;
    d.script = best[k]->script;
    d.pattern = best[k]->expanded;
    d.file = m.files[best[k]->loc.file];
    d.line = best[k]->loc.line;
    (k == 0 ? out.merge : out.location_modify) = std::move(d);
  }
  return out;
}

}  // namespace migstore
