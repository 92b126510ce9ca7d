// A streaming JSON writer for reports and listings: values go straight to
// the output, so listing a million entries needs no document in memory.
// Strings are byte strings shown with DisplayBytes (cli_common.h), then
// JSON-escaped, so every name survives, UTF-8 or not.

#ifndef MIGSTORE_CLI_JSON_WRITER_H_
#define MIGSTORE_CLI_JSON_WRITER_H_

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace migstore::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::FILE* out) : out_(out) {}
  ~JsonWriter() {
    if (!done_) std::fputc('\n', out_);
  }

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // The name of the next member of the current object.
  void Key(std::string_view name);
  void String(std::string_view bytes);
  void Number(uint64_t v);
  void Number(int64_t v);
  void Number(double v);
  void Bool(bool v);
  // Several numeric members at once.
  void Numbers(std::initializer_list<std::pair<const char*, uint64_t>> members);

  // `bytes` as a quoted JSON string (exposed for tests).
  static std::string Quote(std::string_view bytes);

 private:
  void BeforeValue();
  void Open(char c);
  void Close(char c);

  std::FILE* out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
  bool done_ = false;
};

}  // namespace migstore::cli

#endif  // MIGSTORE_CLI_JSON_WRITER_H_
