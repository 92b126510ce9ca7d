// Matcher::ForRestore and ForRestoreRegistry: the <merge>, <locationModify>
// and <contentModify> rules a restore applies to one path or registry
// value. USMT picks the most specific rule of each kind (usmt.md §2:
// "C:\sub\* [*]" beats "C:\* [*]"); among equally specific rules the first
// loaded wins, so the answer does not depend on threads.

#include "engine/base/case_fold.h"
#include "engine/src/rules/matcher_data.h"
#include "engine/src/rules/precedence.h"
#include "engine/src/rules/registry_pattern.h"
#include "migstore/matcher.h"

namespace migstore {
namespace {

using internal::RestoreSpec;

// The most specific rule of each kind among `hits` (restore_rules ids).
RestoreDirectives Best(const internal::MatcherData& m,
                       const std::vector<uint32_t>& hits) {
  constexpr int kKinds = 3;  // merge, locationModify, contentModify
  const internal::RestoreRule* best[kKinds] = {nullptr, nullptr, nullptr};
  uint32_t best_id[kKinds] = {0, 0, 0};
  for (uint32_t h : hits) {
    const internal::RestoreRule& r = m.restore_rules[h];
    const int k = r.kind == RestoreSpec::Kind::kMerge            ? 0
                  : r.kind == RestoreSpec::Kind::kLocationModify ? 1
                  : r.kind == RestoreSpec::Kind::kContentModify  ? 2
                                                                 : -1;
    if (k < 0) continue;
    if (best[k] == nullptr || internal::MoreSpecific(r.spec, best[k]->spec) ||
        (!internal::MoreSpecific(best[k]->spec, r.spec) && h < best_id[k])) {
      best[k] = &r;
      best_id[k] = h;
    }
  }
  RestoreDirectives out;
  std::optional<RestoreDirective>* slots[kKinds] = {
      &out.merge, &out.location_modify, &out.content_modify};
  for (int k = 0; k < kKinds; ++k) {
    if (best[k] == nullptr) continue;
    RestoreDirective d;
    d.function = best[k]->function;
    d.args = best[k]->args;
    d.script = best[k]->script;
    d.pattern = best[k]->expanded;
    d.file = m.files[best[k]->loc.file];
    d.line = best[k]->loc.line;
    *slots[k] = std::move(d);
  }
  return out;
}

}  // namespace

bool Matcher::has_restore_rules() const {
  return data_ != nullptr && data_->restore.size() > 0;
}

bool Matcher::has_registry_restore_rules() const {
  return data_ != nullptr && data_->registry_restore.size() > 0;
}

RestoreDirectives Matcher::ForRestore(std::string_view path,
                                      EntryKind kind) const {
  if (!has_restore_rules()) return {};
  const internal::MatcherData& m = *data_;
  std::string_view p = path;
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) return {};
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
  return Best(m, hits);
}

RestoreDirectives Matcher::ForRestoreRegistry(std::string_view key,
                                              int32_t profile,
                                              const std::string& value) const {
  if (!has_registry_restore_rules()) return {};
  const internal::MatcherData& m = *data_;
  std::string path = internal::RegistryMatchPath(key, profile);
  if (path.empty()) return {};
  path = internal::FoldedCopy(path);
  const std::string name = internal::FoldedCopy(value);
  std::vector<uint32_t> hits;
  m.registry_restore.ForFile(path, name, nullptr, [&](uint32_t pid) {
    hits.push_back(m.registry_restore.pattern(pid).rule);
  });
  return Best(m, hits);
}

}  // namespace migstore
