// SelectUsers: ScanState's /ui > /uel > /ue precedence.

#include "migstore/user_selection.h"

#include <charconv>
#include <ctime>
#include <set>

#include "engine/base/case_fold.h"
#include "engine/base/time_ns.h"
#include "engine/src/profiles/login_records.h"

namespace migstore {
namespace {

constexpr int64_t kNsPerDay = 86400 * kNanosPerSecond;

std::string FormatTime(int64_t ns) {
  if (ns == 0) return "never";
  time_t t = static_cast<time_t>(ns / kNanosPerSecond);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The part of a USMT "DOMAIN\user" glob that names the user.
std::string_view UserPart(std::string_view glob) {
  size_t slash = glob.rfind('\\');
  return slash == std::string_view::npos ? glob : glob.substr(slash + 1);
}

const std::string* FirstMatch(const std::vector<std::string>& globs,
                              const UserProfile& p, bool fold) {
  for (const std::string& g : globs) {
    if (UserGlobMatch(UserPart(g), p.name, fold) ||
        (!p.sid.empty() && UserGlobMatch(g, p.sid, true))) {
      return &g;
    }
  }
  return nullptr;
}

}  // namespace

bool UserGlobMatch(std::string_view glob, std::string_view name,
                   bool fold_case) {
  // Iterative wildcard match with one backtrack point: '*' only.
  size_t g = 0, n = 0, star = std::string_view::npos, mark = 0;
  auto eq = [fold_case](char a, char b) {
    return fold_case ? internal::FoldAscii(a) == internal::FoldAscii(b)
                     : a == b;
  };
  while (n < name.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = n;
    } else if (g < glob.size() && eq(glob[g], name[n])) {
      ++g;
      ++n;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

Result<LastUsed> ParseLastUsed(std::string_view text, int64_t now_ns) {
  LastUsed out;
  out.text = std::string(text);
  int days;
  if (ParseInt(text, &days)) {
    if (days < 0)
      return Status::InvalidArgument("--last-used: negative days", text);
    if (days == 0) {
      out.kind = LastUsed::Kind::kLoggedOnNow;
      return out;
    }
    out.kind = LastUsed::Kind::kDays;
    out.not_before_ns = now_ns - static_cast<int64_t>(days) * kNsPerDay;
    return out;
  }
  int y, m, d;
  if (text.size() == 10 && (text[4] == '-' || text[4] == '/') &&
      text[7] == text[4] && ParseInt(text.substr(0, 4), &y) &&
      ParseInt(text.substr(5, 2), &m) && ParseInt(text.substr(8, 2), &d) &&
      m >= 1 && m <= 12 && d >= 1 && d <= 31 && y >= 1970) {
    struct tm tm = {};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);  // local midnight, as ScanState counts dates
    if (t == static_cast<time_t>(-1) || tm.tm_mday != d) {
      return Status::InvalidArgument("--last-used: no such date", text);
    }
    out.kind = LastUsed::Kind::kSince;
    out.not_before_ns = static_cast<int64_t>(t) * kNanosPerSecond;
    return out;
  }
  return Status::InvalidArgument(
      "--last-used takes DAYS, YYYY-MM-DD or YYYY/MM/DD", text);
}

Result<std::vector<UserChoice>> SelectUsers(const Machine& machine,
                                            const UserSelection& selection) {
  const bool fold = machine.layout == Layout::kWindows;
  std::set<std::string> logged_on;
  if (selection.last_used &&
      selection.last_used->kind == LastUsed::Kind::kLoggedOnNow) {
    if (machine.layout == Layout::kWindows) {
      return Status::InvalidArgument(
          "--last-used 0 (logged on now) cannot be told from a windows root");
    }
    logged_on = internal::ReadLoggedOnUsers(machine.root);
  }
  std::vector<UserChoice> out;
  for (size_t i = 0; i < machine.profiles.size(); ++i) {
    const UserProfile& p = machine.profiles[i];
    UserChoice c;
    c.profile = i;
    const std::string* excluded_by = FirstMatch(selection.exclude, p, fold);
    std::string beats = excluded_by
                            ? " (beats --user-exclude '" + *excluded_by + "')"
                            : std::string();
    if (const std::string* g = FirstMatch(selection.include, p, fold)) {
      c.selected = true;
      c.reason = "included by --user-include '" + *g + "'" + beats;
    } else if (selection.last_used) {
      const LastUsed& lu = *selection.last_used;
      std::string when =
          "last used " + FormatTime(p.last_use_ns) +
          (p.last_use_source.empty() ? "" : " (" + p.last_use_source + ")");
      if (lu.kind == LastUsed::Kind::kLoggedOnNow) {
        c.selected = logged_on.count(p.name) != 0;
        c.reason = c.selected ? "logged on now (--last-used 0)" + beats
                              : "not logged on now (--last-used 0)";
      } else {
        c.selected = p.last_use_ns != 0 && p.last_use_ns >= lu.not_before_ns;
        c.reason =
            when + (c.selected ? ", within --last-used " + lu.text + beats
                               : ", before --last-used " + lu.text);
      }
    } else if (excluded_by) {
      c.reason = "excluded by --user-exclude '" + *excluded_by + "'";
    } else {
      c.selected = true;
      c.reason = selection.exclude.empty()
                     ? "every user is taken by default"
                     : "not matched by any --user-exclude";
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace migstore
