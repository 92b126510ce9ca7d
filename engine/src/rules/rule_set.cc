// RuleSet and RuleDiagnostic: reading rules files into the rule model.

#include <cassert>

#include "engine/src/fs/root_fs.h"
#include "engine/src/rules/config_xml_parser.h"
#include "engine/src/rules/native_rules_parser.h"
#include "engine/src/rules/rule_model.h"
#include "engine/src/rules/usmt_xml_parser.h"
#include "migstore/rules.h"

namespace migstore {
namespace internal {

const char* RuleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kInclude:
      return "include";
    case RuleAction::kExclude:
      return "exclude";
    case RuleAction::kUnconditionalExclude:
      return "unconditional-exclude";
  }
  return "?";
}

std::string LocatedMessage(const RuleSetData& data, const SourceLoc& loc,
                           std::string_view message) {
  std::string out = data.files[loc.file];
  if (loc.line > 0) {
    out += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
  }
  out += ": ";
  out += message;
  return out;
}

}  // namespace internal

namespace {

// Rules files are small; anything past this is not one.
constexpr size_t kMaxRulesFileBytes = 64u << 20;

bool LooksLikeXml(std::string_view text) {
  if (text.size() >= 2 && ((static_cast<unsigned char>(text[0]) == 0xFF &&
                            static_cast<unsigned char>(text[1]) == 0xFE) ||
                           (static_cast<unsigned char>(text[0]) == 0xFE &&
                            static_cast<unsigned char>(text[1]) == 0xFF))) {
    return true;  // UTF-16: only XML comes that way
  }
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t i = text.find_first_not_of(" \t\r\n");
  return i != std::string_view::npos && text[i] == '<';
}

Result<std::string> ReadRulesFile(const std::string& path) {
  Result<std::string> text = internal::ReadSmallFile(path, kMaxRulesFileBytes);
  // A rules file that cannot be read is a bad argument to the command, not a
  // failure of the machine.
  if (!text.ok()) {
    return Status::InvalidArgument("cannot read rules file",
                                   text.status().message());
  }
  return text;
}

}  // namespace

std::string RuleDiagnostic::ToString() const {
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += severity == Severity::kWarning ? ": warning: " : ": note: ";
  out += message;
  return out;
}

RuleSet::RuleSet() : data_(std::make_shared<internal::RuleSetData>()) {}
RuleSet::~RuleSet() = default;
RuleSet::RuleSet(const RuleSet& other) = default;
RuleSet& RuleSet::operator=(const RuleSet& other) = default;
RuleSet::RuleSet(RuleSet&& other) noexcept = default;
RuleSet& RuleSet::operator=(RuleSet&& other) noexcept = default;

internal::RuleSetData& RuleSet::mutable_data() {
  // Copy on write: copies of a RuleSet share their data until one changes.
  if (data_.use_count() > 1)
    data_ = std::make_shared<internal::RuleSetData>(*data_);
  return *data_;
}

Status RuleSet::AddFile(const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(std::string text, ReadRulesFile(path));
  return AddText(path, text);
}

Status RuleSet::AddText(std::string_view name, std::string_view text) {
  if (LooksLikeXml(text))
    return internal::ParseMigrationXml(name, text, &mutable_data());
  return internal::ParseNativeRules(name, text, &mutable_data());
}

Status RuleSet::SetConfigFile(const std::string& path) {
  MIGSTORE_ASSIGN_OR_RETURN(std::string text, ReadRulesFile(path));
  return SetConfigText(path, text);
}

Status RuleSet::SetConfigText(std::string_view name, std::string_view text) {
  return internal::ParseConfigXml(name, text, &mutable_data());
}

void RuleSet::AddBuiltIn(Layout layout) {
  const char* name = layout == Layout::kWindows ? "<built-in windows rules>"
                                                : "<built-in linux rules>";
  Status s = internal::ParseNativeRules(name, BuiltInRulesText(layout),
                                        &mutable_data());
  assert(s.ok() && "the built-in rules must parse");
  (void)s;
}

bool RuleSet::empty() const { return !data_->has_rules; }

const std::vector<RuleDiagnostic>& RuleSet::diagnostics() const {
  return data_->diagnostics;
}

}  // namespace migstore
