#include "engine/src/restore/account_names.h"

#include "engine/base/case_fold.h"
#include "engine/base/rel_path.h"

namespace migstore::restore {

std::optional<QualifiedName> SplitDomain(std::string_view name) {
  if (size_t bs = name.find('\\'); bs != std::string_view::npos) {
    if (bs == 0 || bs + 1 == name.size()) return std::nullopt;
    return QualifiedName{name.substr(0, bs), name.substr(bs + 1), true};
  }
  if (size_t at = name.rfind('@'); at != std::string_view::npos) {
    if (at == 0 || at + 1 == name.size()) return std::nullopt;
    return QualifiedName{name.substr(at + 1), name.substr(0, at), false};
  }
  return std::nullopt;
}

bool DomainMatches(std::string_view pattern, std::string_view domain) {
  // Glob with '*' only, iterative with one backtrack point: linear enough
  // for names of a few dozen bytes, and no recursion a long pattern could
  // exhaust.
  size_t p = 0, d = 0, star = std::string_view::npos, resume = 0;
  while (d < domain.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = d;
    } else if (p < pattern.size() && internal::FoldAscii(pattern[p]) ==
                                         internal::FoldAscii(domain[d])) {
      ++p;
      ++d;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      d = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<std::string> MapDomain(std::string_view name,
                                     const std::vector<DomainMapping>& mappings,
                                     size_t* matched) {
  std::optional<QualifiedName> q = SplitDomain(name);
  if (!q) return std::nullopt;
  for (size_t i = 0; i < mappings.size(); ++i) {
    if (!DomainMatches(mappings[i].from, q->domain)) continue;
    if (matched != nullptr) *matched = i;
    const std::string& to = mappings[i].to;
    return q->backslash ? to + "\\" + std::string(q->user)
                        : std::string(q->user) + "@" + to;
  }
  return std::nullopt;
}

int UserNameMatch(std::string_view store_name, std::string_view from,
                  bool fold) {
  auto same = [fold](std::string_view a, std::string_view b) {
    return fold ? internal::EqualsFolded(a, b) : a == b;
  };
  if (same(store_name, from)) return 2;
  std::optional<QualifiedName> s = SplitDomain(store_name),
                               f = SplitDomain(from);
  if (s && f) {
    return internal::EqualsFolded(s->domain, f->domain) &&
                   same(s->user, f->user)
               ? 2
               : 0;
  }
  if (s) return same(s->user, from) ? 1 : 0;
  if (f) return same(store_name, f->user) ? 1 : 0;
  return 0;
}

std::optional<size_t> FindStoreUser(const std::vector<std::string>& names,
                                    std::string_view from, bool fold,
                                    std::vector<size_t>* matches) {
  std::vector<size_t> best;
  int level = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    const int m = UserNameMatch(names[k], from, fold);
    if (m == 0 || m < level) continue;
    if (m > level) best.clear();
    level = m;
    best.push_back(k);
  }
  if (matches != nullptr) *matches = best;
  if (best.size() != 1) return std::nullopt;
  return best[0];
}

std::vector<UserMapping> MappingsInForce(
    const std::vector<UserMapping>& users,
    const std::vector<DomainMapping>& domains,
    const std::vector<std::string>& names, bool fold,
    std::vector<size_t>* unused) {
  std::vector<UserMapping> out = users;
  std::vector<bool> used(domains.size(), false);
  std::vector<bool> named(names.size(), false);
  for (const UserMapping& m : users) {
    if (std::optional<size_t> k = FindStoreUser(names, m.from, fold))
      named[*k] = true;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    size_t k = 0;
    std::optional<std::string> to = MapDomain(name, domains, &k);
    if (!to) continue;
    used[k] = true;  // even when --map-user wins: the domain was right
    if (!named[i]) out.push_back({name, std::move(*to)});
  }
  for (size_t k = 0; k < domains.size(); ++k) {
    if (!used[k]) unused->push_back(k);
  }
  return out;
}

std::string MappedHome(std::string_view home, std::string_view from,
                       std::string_view to) {
  std::optional<QualifiedName> a = SplitDomain(from), b = SplitDomain(to);
  std::string_view parent = ParentOf(home);
  if (a && b && a->user == b->user && !parent.empty() &&
      NameOf(home) == a->user &&
      internal::EqualsFolded(NameOf(parent), a->domain)) {
    return JoinPath(JoinPath(ParentOf(parent), b->domain), NameOf(home));
  }
  return JoinPath(parent, to);
}

std::string BadLocalNameReason(std::string_view name) {
  if (name.empty()) return "an empty name";
  if (SplitDomain(name)) return "a domain account's name";
  if (name.size() > 32) return "longer than 32 bytes";
  auto letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  if (!letter(name[0])) return "not starting with a letter or '_'";
  for (size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    if (letter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-') continue;
    if (c == '$' && i + 1 == name.size()) continue;
    return "a character other than letters, digits, '_', '.', '-' and a "
           "final '$'";
  }
  return "";
}

}  // namespace migstore::restore
