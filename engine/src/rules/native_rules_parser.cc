#include "engine/src/rules/native_rules_parser.h"

#include "engine/src/rules/native_pattern.h"
#include "engine/src/rules/variables.h"

namespace migstore::internal {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool CheckNativePattern(std::string_view pattern, size_t* column_offset,
                        std::string* message) {
  // Variables must be known; then the glob is checked with each variable
  // replaced by as many 'x' bytes, so offsets still point into `pattern`.
  std::string placeholder(pattern);
  size_t pos = 0, b, e;
  while (NextVariable(pattern, pos, &b, &e)) {
    std::string_view name = pattern.substr(b + 1, e - b - 2);
    if (FindVariable(name) == nullptr) {
      *column_offset = b;
      *message = "unknown variable %" + std::string(name) + "%";
      return false;
    }
    for (size_t i = b; i < e; ++i) placeholder[i] = 'x';
    pos = e;
  }
  std::vector<PatternParts> parts;
  NativePatternError error;
  if (!ParseNativePattern(placeholder, &parts, &error)) {
    *column_offset = error.offset;
    *message = error.message;
    return false;
  }
  return true;
}

Status ParseNativeRules(std::string_view name, std::string_view text,
                        RuleSetData* data) {
  RuleSetData scratch = *data;
  const uint32_t file = scratch.AddFile(name);
  int current = -1;
  const size_t first_component = scratch.components.size();

  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    size_t kw_end = i;
    while (kw_end < line.size() && !IsBlank(line[kw_end])) ++kw_end;
    std::string_view keyword = line.substr(i, kw_end - i);
    size_t arg = kw_end;
    while (arg < line.size() && IsBlank(line[arg])) ++arg;
    size_t arg_end = line.size();
    while (arg_end > arg && IsBlank(line[arg_end - 1])) --arg_end;
    std::string_view value = line.substr(arg, arg_end - arg);
    SourceLoc kw_loc{file, line_no, static_cast<int>(i) + 1};
    SourceLoc arg_loc{file, line_no, static_cast<int>(arg) + 1};

    if (keyword == "component") {
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (value.empty()) {
        return Status::InvalidArgument(
            LocatedMessage(scratch, arg_loc, "component needs a name"));
      }
      current = -1;
      for (size_t c = first_component; c < scratch.components.size(); ++c) {
        if (scratch.components[c].name == value) current = static_cast<int>(c);
      }
      if (current < 0) {
        ComponentSpec comp;
        comp.name = std::string(value);
        comp.native = true;
        comp.loc = kw_loc;
        comp.groups.emplace_back();
        scratch.components.push_back(std::move(comp));
        current = static_cast<int>(scratch.components.size() - 1);
      }
      continue;
    }

    RuleSpec rule;
    if (keyword == "include") {
      rule.action = RuleAction::kInclude;
    } else if (keyword == "exclude") {
      rule.action = RuleAction::kExclude;
    } else if (keyword == "unconditional-exclude") {
      rule.action = RuleAction::kUnconditionalExclude;
    } else {
      return Status::InvalidArgument(
          LocatedMessage(scratch, kw_loc,
                         "unknown keyword '" + std::string(keyword) +
                             "' (expected include, exclude, "
                             "unconditional-exclude or component)"));
    }
    if (value.empty()) {
      return Status::InvalidArgument(LocatedMessage(
          scratch, arg_loc, std::string(keyword) + " needs a pattern"));
    }
    size_t bad = 0;
    std::string message;
    if (!CheckNativePattern(value, &bad, &message)) {
      SourceLoc at{file, line_no, static_cast<int>(arg + bad) + 1};
      return Status::InvalidArgument(LocatedMessage(scratch, at, message));
    }
    if (current < 0) {
      ComponentSpec comp;
      comp.name = std::string(BaseName(name));
      comp.native = true;
      comp.loc = kw_loc;
      comp.groups.emplace_back();
      scratch.components.push_back(std::move(comp));
      current = static_cast<int>(scratch.components.size() - 1);
    }
    rule.pattern.kind = PatternSource::Kind::kNative;
    rule.pattern.text = std::string(value);
    rule.pattern.loc = arg_loc;
    scratch.components[static_cast<size_t>(current)].groups[0].rules.push_back(
        std::move(rule));
  }
  scratch.has_rules = true;
  *data = std::move(scratch);
  return Status::OK();
}

}  // namespace migstore::internal
