#include "json_writer.h"

#include <cinttypes>

#include "cli_common.h"

namespace migstore::cli {

std::string JsonWriter::Quote(std::string_view bytes) {
  std::string shown = DisplayBytes(bytes);  // ASCII controls are \xNN now
  std::string out = "\"";
  for (char c : shown) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) std::fputc(',', out_);
    first_.back() = false;
  }
}

void JsonWriter::Open(char c) {
  BeforeValue();
  std::fputc(c, out_);
  first_.push_back(true);
}

void JsonWriter::Close(char c) {
  first_.pop_back();
  std::fputc(c, out_);
  if (first_.empty()) {
    std::fputc('\n', out_);
    done_ = true;
  }
}

void JsonWriter::Key(std::string_view name) {
  BeforeValue();
  std::fputs(Quote(name).c_str(), out_);
  std::fputc(':', out_);
  after_key_ = true;
}

void JsonWriter::String(std::string_view bytes) {
  BeforeValue();
  std::fputs(Quote(bytes).c_str(), out_);
}

void JsonWriter::Number(uint64_t v) {
  BeforeValue();
  std::fprintf(out_, "%" PRIu64, v);
}

void JsonWriter::Number(int64_t v) {
  BeforeValue();
  std::fprintf(out_, "%" PRId64, v);
}

void JsonWriter::Number(double v) {
  BeforeValue();
  std::fprintf(out_, "%.6g", v);
}

void JsonWriter::Numbers(
    std::initializer_list<std::pair<const char*, uint64_t>> members) {
  for (const auto& [name, v] : members) {
    Key(name);
    Number(v);
  }
}

void JsonWriter::Bool(bool v) {
  BeforeValue();
  std::fputs(v ? "true" : "false", out_);
}

}  // namespace migstore::cli
