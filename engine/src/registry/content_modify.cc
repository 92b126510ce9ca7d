#include "engine/src/registry/content_modify.h"

#include <charconv>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/case_fold.h"
#include "engine/base/utf16.h"
#include "format/registry.h"

namespace migstore::registry {
namespace {

using ValueData = Hive::ValueData;

bool IsString(uint32_t type) {
  return type == format::kRegSz || type == format::kRegExpandSz;
}

std::string Text(const ValueData& v) {
  return internal::Utf16ToUtf8(v.data, true, /*stop_at_nul=*/true);
}

std::string SzBytes(std::string_view utf8) {
  std::string out;
  internal::AppendUtf16Le(utf8, &out);
  out.append(2, '\0');
  return out;
}

// The strings of a REG_MULTI_SZ; a last string without its NUL (a value
// written carelessly) still counts.
std::vector<std::string> MultiSz(const ValueData& v) {
  std::vector<std::string> out;
  size_t start = 0;
  const size_t end = v.data.size() & ~size_t{1};
  for (size_t i = 0; i < end; i += 2) {
    if (v.data[i] != '\0' || v.data[i + 1] != '\0') continue;
    if (i == start) return out;  // the empty string that ends the list
    out.push_back(internal::Utf16ToUtf8(
        std::string_view(v.data).substr(start, i - start), true));
    start = i + 2;
  }
  if (start < end) {
    out.push_back(internal::Utf16ToUtf8(
        std::string_view(v.data).substr(start, end - start), true));
  }
  return out;
}

std::string MultiSzBytes(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& s : list) {
    internal::AppendUtf16Le(s, &out);
    out.append(2, '\0');
  }
  out.append(2, '\0');
  return out;
}

uint64_t Little(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = bytes.size(); i-- > 0;)
    v = v << 8 | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string LittleBytes(uint64_t v, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return out;
}

// "123", "-5", "0x1F": as a 64-bit two's complement number.
std::optional<uint64_t> Number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return negative ? ~v + 1 : v;
}

std::optional<uint64_t> NumberOf(const ValueData& v) {
  if (v.type == format::kRegDword && v.data.size() == 4) return Little(v.data);
  if (v.type == format::kRegQword && v.data.size() == 8) return Little(v.data);
  return std::nullopt;
}

ValueData Dword(const ValueData& like, uint32_t v) {
  return {like.name, format::kRegDword, LittleBytes(v, 4)};
}

Status Cannot(const RestoreDirective& rule, const std::string& why) {
  return Status::InvalidArgument(
      rule.script + " (" + rule.file + ":" + std::to_string(rule.line) + ")",
      why);
}

// A helper's optional argument: absent, empty or NULL means "none".
bool Given(const RestoreDirective& rule, size_t i) {
  return rule.args.size() > i && !rule.args[i].empty() &&
         !internal::EqualsFolded(rule.args[i], "NULL");
}

// The default of a call (its argument `i`) as a DWORD; 0 when the call
// gives none (USMT: "If NULL, 0 will be written").
Result<ValueData> DefaultDword(const RestoreDirective& rule, size_t i,
                               const ValueData& source) {
  if (!Given(rule, i)) return Dword(source, 0);
  std::optional<uint64_t> d = Number(rule.args[i]);
  if (!d)
    return Cannot(rule,
                  "DefaultValueOnError '" + rule.args[i] + "' is not a number");
  return Dword(source, static_cast<uint32_t>(*d));
}

Result<ValueData> ConvertToDword(const RestoreDirective& rule,
                                 const ValueData& v) {
  std::optional<uint64_t> n;
  if (IsString(v.type)) {
    n = Number(Text(v));
  } else if (v.type == format::kRegDword && v.data.size() == 4) {
    return v;
  } else if (v.type == format::kRegQword && v.data.size() == 8) {
    n = Little(v.data);
    if (*n > 0xFFFFFFFFu) n.reset();
  } else if ((v.type == format::kRegBinary || v.type == format::kRegNone) &&
             v.data.size() <= 4) {
    n = Little(v.data);
  }
  // A number in a string may be negative: its low 32 bits, as Windows
  // stores a negative DWORD.
  if (n && IsString(v.type)) {
    const auto signed_n = static_cast<int64_t>(*n);
    if (*n > 0xFFFFFFFFu && (signed_n >= 0 || signed_n < INT32_MIN)) n.reset();
  }
  if (!n) {
    return DefaultDword(rule, 0, v);
  }
  return Dword(v, static_cast<uint32_t>(*n));
}

Result<ValueData> ConvertToString(const RestoreDirective& rule,
                                  const ValueData& v) {
  std::string text;
  if (IsString(v.type)) {
    text = Text(v);
  } else if (std::optional<uint64_t> n = NumberOf(v)) {
    text = std::to_string(*n);
  } else if (v.type == format::kRegBinary || v.type == format::kRegNone) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : v.data) {
      text.push_back(kHex[c >> 4]);
      text.push_back(kHex[c & 15]);
    }
  } else {
    return Cannot(rule, "a value of type " + std::to_string(v.type) +
                            " has no string form");
  }
  return ValueData{v.name, format::kRegSz, SzBytes(text)};
}

Result<ValueData> OffsetValue(const RestoreDirective& rule,
                              const ValueData& v) {
  if (rule.args.size() != 1)
    return Cannot(rule, "OffsetValue takes one number");
  std::optional<uint64_t> offset = Number(rule.args[0]);
  if (!offset) return Cannot(rule, "'" + rule.args[0] + "' is not a number");
  std::optional<uint64_t> n = NumberOf(v);
  if (!n) return Cannot(rule, "only a DWORD or a QWORD is offset");
  const size_t width = v.data.size();
  return ValueData{v.name, v.type, LittleBytes(*n + *offset, width)};
}

// "a,b,c": the items of a comma-separated table.
std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// "a, b,c": the items of a comma-separated table, spaces around them
// dropped.
std::vector<std::string> Items(std::string_view list) {
  std::vector<std::string> out;
  for (;;) {
    size_t comma = list.find(',');
    out.emplace_back(Trimmed(list.substr(0, comma)));
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

Result<ValueData> SetValueByTable(const RestoreDirective& rule,
                                  const ValueData& v) {
  // USMT: the destination table is optional, and a value whose place in
  // the source table has no destination item takes the default.
  if (rule.args.empty() || rule.args.size() > 3) {
    return Cannot(rule,
                  "SetValueByTable takes a source table, a destination "
                  "table and a default");
  }
  const std::vector<std::string> from = Items(rule.args[0]);
  const std::vector<std::string> to =
      Given(rule, 1) ? Items(rule.args[1]) : std::vector<std::string>();
  std::optional<std::string> text = StringForm(v);
  if (!text) return Cannot(rule, "only a string or a number is looked up");
  const bool number = !IsString(v.type);
  auto as_value = [&](std::string_view item) -> Result<ValueData> {
    if (!number) return ValueData{v.name, v.type, SzBytes(item)};
    std::optional<uint64_t> n = Number(item);
    if (!n) return Cannot(rule, "'" + std::string(item) + "' is not a number");
    return ValueData{v.name, v.type, LittleBytes(*n, v.data.size())};
  };
  for (size_t i = 0; i < from.size(); ++i) {
    if (!internal::EqualsFolded(from[i], *text)) continue;
    if (i < to.size()) return as_value(to[i]);
    break;  // no destination item: the default
  }
  if (Given(rule, 2)) return as_value(rule.args[2]);
  return v;  // not in the table, no default: unchanged
}

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  for (const std::string& x : list) {
    if (internal::EqualsFolded(x, s)) return true;
  }
  return false;
}

// The target's items, then the source's not there, then the instructions
// (pairs from args[first]).
Result<std::vector<std::string>> Merged(
    const RestoreDirective& rule, size_t first, std::vector<std::string> target,
    const std::vector<std::string>& source) {
  if (rule.args.size() < first || (rule.args.size() - first) % 2 != 0)
    return Cannot(rule,
                  "instructions come in pairs: Add or Remove, then a string");
  // USMT: "duplicate elements will be removed" -- the target's own too.
  std::vector<std::string> out;
  for (std::string& s : target) {
    if (!Contains(out, s)) out.push_back(std::move(s));
  }
  for (const std::string& s : source) {
    if (!Contains(out, s)) out.push_back(s);
  }
  for (size_t i = first; i < rule.args.size(); i += 2) {
    const std::string& what = rule.args[i + 1];
    if (internal::EqualsFolded(rule.args[i], "Add")) {
      if (!Contains(out, what)) out.push_back(what);
    } else if (internal::EqualsFolded(rule.args[i], "Remove")) {
      std::erase_if(out, [&](const std::string& x) {
        return internal::EqualsFolded(x, what);
      });
    } else {
      return Cannot(
          rule, "instruction '" + rule.args[i] + "' is neither Add nor Remove");
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, std::string_view delims) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || delims.find(text[i]) != std::string_view::npos) {
      std::string_view item = Trimmed(text.substr(start, i - start));
      if (!item.empty()) out.emplace_back(item);
      start = i + 1;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> StringForm(const ValueData& v) {
  if (IsString(v.type)) return Text(v);
  if (std::optional<uint64_t> n = NumberOf(v)) return std::to_string(*n);
  return std::nullopt;
}

Result<ValueData> ModifyContent(const RestoreDirective& rule,
                                const ValueData& source,
                                const ValueData* existing) {
  const std::string& f = rule.function;
  if (internal::EqualsFolded(f, "ConvertToDWORD"))
    return ConvertToDword(rule, source);
  if (internal::EqualsFolded(f, "ConvertToString"))
    return ConvertToString(rule, source);
  if (internal::EqualsFolded(f, "ConvertToBinary"))
    return ValueData{source.name, format::kRegBinary, source.data};
  if (internal::EqualsFolded(f, "OffsetValue"))
    return OffsetValue(rule, source);
  if (internal::EqualsFolded(f, "SetValueByTable"))
    return SetValueByTable(rule, source);
  if (internal::EqualsFolded(f, "MergeMultiSzContent")) {
    if (source.type != format::kRegMultiSz)
      return Cannot(rule, "the value is not a REG_MULTI_SZ");
    std::vector<std::string> target;
    if (existing != nullptr && existing->type == format::kRegMultiSz)
      target = MultiSz(*existing);
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<std::string> list,
        Merged(rule, 0, std::move(target), MultiSz(source)));
    return ValueData{source.name, source.type, MultiSzBytes(list)};
  }
  if (internal::EqualsFolded(f, "MergeDelimitedContent")) {
    if (rule.args.empty() || rule.args[0].empty())
      return Cannot(rule, "MergeDelimitedContent needs its delimiters first");
    if (!IsString(source.type))
      return Cannot(rule, "the value is not a REG_SZ or REG_EXPAND_SZ");
    const std::string& delims = rule.args[0];
    std::vector<std::string> target;
    if (existing != nullptr && IsString(existing->type))
      target = Split(Text(*existing), delims);
    MIGSTORE_ASSIGN_OR_RETURN(
        std::vector<std::string> list,
        Merged(rule, 1, std::move(target), Split(Text(source), delims)));
    std::string joined;
    for (const std::string& s : list) {
      if (!joined.empty()) joined.push_back(delims[0]);
      joined += s;
    }
    return ValueData{source.name, source.type, SzBytes(joined)};
  }
  if (internal::EqualsFolded(f, "KeepExisting")) {
    return Cannot(rule,
                  "KeepExisting keeps a file's attributes, security or "
                  "times; it does not change a registry value");
  }
  return Cannot(rule, "not a <contentModify> helper migstore knows");
}

}  // namespace migstore::registry
