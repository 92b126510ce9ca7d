#include "engine/src/rules/script_call.h"

namespace migstore::internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool ParseScriptCall(std::string_view text, ScriptCall* out, size_t* error_at) {
  size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  skip();
  size_t name_begin = i;
  while (i < text.size() && !IsSpace(text[i]) && text[i] != '(') ++i;
  out->name = std::string(text.substr(name_begin, i - name_begin));
  if (out->name.empty()) {
    *error_at = name_begin;
    return false;
  }
  size_t dot = out->name.rfind('.');
  out->function =
      dot == std::string::npos ? out->name : out->name.substr(dot + 1);
  skip();
  if (i >= text.size() || text[i] != '(') {
    *error_at = i;
    return false;
  }
  ++i;
  out->args.clear();
  skip();
  if (i < text.size() && text[i] == ')') {
    ++i;
  } else {
    for (;;) {
      skip();
      if (i >= text.size()) {
        *error_at = i;
        return false;
      }
      std::string arg;
      if (text[i] == '"' || text[i] == '\'') {
        char q = text[i++];
        size_t close = text.find(q, i);
        if (close == std::string_view::npos) {
          *error_at = i - 1;
          return false;
        }
        arg = std::string(text.substr(i, close - i));
        i = close + 1;
      } else {
        size_t b = i;
        while (i < text.size() && text[i] != ',' && text[i] != ')' &&
               !IsSpace(text[i]))
          ++i;
        arg = std::string(text.substr(b, i - b));
      }
      out->args.push_back(std::move(arg));
      skip();
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == ')') {
        ++i;
        break;
      }
      *error_at = i;
      return false;
    }
  }
  skip();
  if (i != text.size()) {
    *error_at = i;
    return false;
  }
  return true;
}

}  // namespace migstore::internal
