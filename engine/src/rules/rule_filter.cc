#include "engine/src/rules/rule_filter.h"

#include <charconv>
#include <ctime>
#include <limits>
#include <string_view>

#include "engine/base/case_fold.h"
#include "engine/src/rules/script_call.h"

namespace migstore::internal {
namespace {

constexpr int64_t kNsPerSecond = 1000000000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool Digits(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out >= 0;
}

// "5GB", "1.5 MB", "100": an interval of one byte count (a fraction of a
// unit rounds down to whole bytes).
bool ParseSize(std::string_view text, int64_t* low, int64_t* high) {
  text = Trim(text);
  size_t n = 0;
  while (n < text.size() &&
         ((text[n] >= '0' && text[n] <= '9') || text[n] == '.')) {
    ++n;
  }
  std::string_view number = text.substr(0, n);
  std::string_view unit = Trim(text.substr(n));
  int shift = 0;
  if (unit.empty() || EqualsFolded(unit, "B")) {
    shift = 0;
  } else if (EqualsFolded(unit, "KB")) {
    shift = 10;
  } else if (EqualsFolded(unit, "MB")) {
    shift = 20;
  } else if (EqualsFolded(unit, "GB")) {
    shift = 30;
  } else if (EqualsFolded(unit, "TB")) {
    shift = 40;
  } else {
    return false;
  }
  size_t dot = number.find('.');
  int64_t whole = 0;
  if (!Digits(number.substr(0, dot), &whole)) return false;
  if (whole > (std::numeric_limits<int64_t>::max() >> shift)) return false;
  int64_t bytes = whole << shift;
  if (dot != std::string_view::npos) {
    std::string_view frac = number.substr(dot + 1);
    int64_t f = 0;
    // At most three decimals: f < 2^10, so f << 40 fits.
    if (frac.size() > 3 || !Digits(frac, &f)) return false;
    int64_t scale = 1;
    for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
    const int64_t part = (f << shift) / scale;  // whole bytes
    if (bytes > std::numeric_limits<int64_t>::max() - part) return false;
    bytes += part;
  }
  *low = *high = bytes;
  return true;
}

// "2008/05/15", "2008-05-15", either with " HH:MM" or " HH:MM:SS": local
// time; a day is the interval of its nanoseconds, a time that of its second.
bool ParseDate(std::string_view text, int64_t* low, int64_t* high) {
  text = Trim(text);
  std::string_view date = text.substr(0, text.find(' '));
  std::string_view time =
      date.size() < text.size() ? Trim(text.substr(date.size())) : "";
  if (date.size() != 10 || (date[4] != '/' && date[4] != '-') ||
      date[7] != date[4]) {
    return false;
  }
  int64_t y, mo, d, h = 0, mi = 0, s = 0;
  if (!Digits(date.substr(0, 4), &y) || !Digits(date.substr(5, 2), &mo) ||
      !Digits(date.substr(8, 2), &d) || y < 1601 || mo < 1 || mo > 12 ||
      d < 1 || d > 31) {
    return false;
  }
  const bool whole_day = time.empty();
  if (!whole_day) {
    if ((time.size() != 5 && time.size() != 8) || time[2] != ':' ||
        (time.size() == 8 && time[5] != ':') ||
        !Digits(time.substr(0, 2), &h) || !Digits(time.substr(3, 2), &mi) ||
        (time.size() == 8 && !Digits(time.substr(6, 2), &s)) || h > 23 ||
        mi > 59 || s > 59) {
      return false;
    }
  }
  std::tm tm{};
  tm.tm_year = static_cast<int>(y - 1900);
  tm.tm_mon = static_cast<int>(mo - 1);
  tm.tm_mday = static_cast<int>(d);
  tm.tm_hour = static_cast<int>(h);
  tm.tm_min = static_cast<int>(mi);
  tm.tm_sec = static_cast<int>(s);
  tm.tm_isdst = -1;
  std::tm start = tm;
  const time_t first = std::mktime(&start);
  if (first == static_cast<time_t>(-1) || start.tm_mday != d) return false;
  std::tm next = tm;
  if (whole_day) {
    next.tm_mday += 1;
  } else {
    next.tm_sec += 1;
  }
  next.tm_isdst = -1;
  const time_t after = std::mktime(&next);
  if (after == static_cast<time_t>(-1)) return false;
  // Nanoseconds in 64 bits reach 1677 to 2262: a date beyond (a "9999/12/31"
  // meant as "ever") lies past every file's time.
  auto ns = [](time_t t) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / kNsPerSecond;
    if (t >= kMax) return std::numeric_limits<int64_t>::max();
    if (t <= -kMax) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(t) * kNsPerSecond;
  };
  *low = ns(first);
  *high = ns(after);
  if (*high != std::numeric_limits<int64_t>::max() &&
      *high != std::numeric_limits<int64_t>::min()) {
    --*high;
  }
  return true;
}

using Parser = bool (*)(std::string_view, int64_t*, int64_t*);

// "A-B" with each side read by `parse`: the '-' where both sides parse
// (dates may hold dashes themselves).
bool ParseRange(std::string_view text, Parser parse, int64_t* low,
                int64_t* high) {
  for (size_t dash = text.find('-'); dash != std::string_view::npos;
       dash = text.find('-', dash + 1)) {
    int64_t a_low, a_high, b_low, b_high;
    if (parse(text.substr(0, dash), &a_low, &a_high) &&
        parse(text.substr(dash + 1), &b_low, &b_high)) {
      if (b_high < a_low) return false;
      *low = a_low;
      *high = b_high;
      return true;
    }
  }
  return false;
}

}  // namespace

bool RuleFilter::Holds(const FileFacts& facts) const {
  int64_t v = 0;
  switch (property) {
    case Property::kSize:
      v = facts.size >
                  static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
              ? std::numeric_limits<int64_t>::max()
              : static_cast<int64_t>(facts.size);
      break;
    case Property::kCreated:
      if (!facts.knows_created) return true;
      v = facts.created_ns;
      break;
    case Property::kModified:
      v = facts.modified_ns;
      break;
    case Property::kAccessed:
      if (!facts.knows_accessed) return true;
      v = facts.accessed_ns;
      break;
  }
  switch (op) {
    case Op::kRange:
    case Op::kEq:
      return v >= low && v <= high;
    case Op::kNeq:
      return v < low || v > high;
    case Op::kLt:
      return v < low;
    case Op::kLte:
      return v <= high;
    case Op::kGt:
      return v > high;
    case Op::kGte:
      return v >= low;
  }
  return false;
}

Result<RuleFilter> ParseRuleFilter(const std::string& script) {
  ScriptCall call;
  size_t bad = 0;
  if (!ParseScriptCall(script, &call, &bad))
    return Status::InvalidArgument("filter " + script + " is not a call");
  RuleFilter f;
  auto no_args = [&](RuleFilter::Kind kind) -> Result<RuleFilter> {
    if (!call.args.empty()) {
      return Status::InvalidArgument("filter " + script +
                                     " takes no arguments");
    }
    f.kind = kind;
    return f;
  };
  if (EqualsFolded(call.function, "IgnoreIrrelevantLinks"))
    return no_args(RuleFilter::Kind::kIgnoreIrrelevantLinks);
  if (EqualsFolded(call.function, "NeverRestore"))
    return no_args(RuleFilter::Kind::kNeverRestore);
  if (!EqualsFolded(call.function, "FileProperties")) {
    return Status::InvalidArgument("filter " + script +
                                   " is not one migstore applies "
                                   "(IgnoreIrrelevantLinks, NeverRestore, "
                                   "FileProperties)");
  }
  if (call.args.size() != 3) {
    return Status::InvalidArgument(
        "filter " + script +
        ": FileProperties takes a property, an operator and a value");
  }
  f.kind = RuleFilter::Kind::kFileProperties;
  const std::string& prop = call.args[0];
  if (EqualsFolded(prop, "filesize")) {
    f.property = RuleFilter::Property::kSize;
  } else if (EqualsFolded(prop, "dateCreated")) {
    f.property = RuleFilter::Property::kCreated;
  } else if (EqualsFolded(prop, "dateModified")) {
    f.property = RuleFilter::Property::kModified;
  } else if (EqualsFolded(prop, "dateAccessed")) {
    f.property = RuleFilter::Property::kAccessed;
  } else {
    return Status::InvalidArgument(
        "filter " + script + ": unknown property '" + prop +
        "' (filesize, dateCreated, dateModified, dateAccessed)");
  }
  static constexpr struct {
    const char* name;
    RuleFilter::Op op;
  } kOps[] = {{"range", RuleFilter::Op::kRange}, {"neq", RuleFilter::Op::kNeq},
              {"lte", RuleFilter::Op::kLte},     {"lt", RuleFilter::Op::kLt},
              {"eq", RuleFilter::Op::kEq},       {"gte", RuleFilter::Op::kGte},
              {"gt", RuleFilter::Op::kGt}};
  bool known = false;
  for (const auto& o : kOps) {
    if (EqualsFolded(call.args[1], o.name)) {
      f.op = o.op;
      known = true;
    }
  }
  if (!known) {
    return Status::InvalidArgument("filter " + script + ": unknown operator '" +
                                   call.args[1] +
                                   "' (range, neq, lte, lt, eq, gte, gt)");
  }
  const Parser parse = f.property == RuleFilter::Property::kSize
                           ? Parser{&ParseSize}
                           : Parser{&ParseDate};
  const bool ok = f.op == RuleFilter::Op::kRange
                      ? ParseRange(call.args[2], parse, &f.low, &f.high)
                      : parse(call.args[2], &f.low, &f.high);
  if (!ok) {
    return Status::InvalidArgument(
        "filter " + script + ": cannot read '" + call.args[2] + "' as " +
        (f.op == RuleFilter::Op::kRange ? "a range of " : "") +
        (f.property == RuleFilter::Property::kSize
             ? "sizes (\"5GB\", \"1KB-1MB\")"
             : "dates (\"2008/05/15\", \"2008/05/15-2008/05/17\")"));
  }
  return f;
}

}  // namespace migstore::internal
