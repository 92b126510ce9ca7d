// Hive: one offline Windows registry hive file (NTUSER.DAT, SOFTWARE,
// SYSTEM), read and written through Debian's libhivex (docs/design.md,
// "Libraries"), never parsed by hand. A hive from a captured volume is
// untrusted input: hivex checks its cells as it opens it, and every error
// it reports becomes a Status naming the file.
//
// Writing changes the hive in memory; CommitTo writes the whole hive under
// a temporary name beside the target, fsyncs it and renames it over the
// target, so a crash leaves the old hive or the new one, never half.
//
// Thread safety: a Hive is used by one thread at a time (hivex handles are
// not thread-safe).

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "migstore/result.h"

namespace migstore::registry {

class Hive {
 public:
  using Node = size_t;  // hivex's hive_node_h; 0 is "none"
  // The largest value hivex writes so that Windows reads it back: above
  // it Windows expects a big-data record, which hivex does not write.
  static constexpr size_t kMaxCellValue = 16344;
  using Value = size_t;  // hivex's hive_value_h

  struct ValueData {
    std::string name;  // UTF-8; "" is the key's default value
    uint32_t type = 0;
    std::string data;  // raw bytes
  };

  // Opens `path`. With `writable` the hive is read into memory and may be
  // changed, then committed. NotFound when there is no such file,
  // Corruption when hivex refuses the file as a hive.
  static Result<Hive> Open(const std::string& path, bool writable);
  // Opens `rel` below the directory `dir_fd` without following a symlink
  // on the way (fs::OpenBeneath); InvalidArgument when it is not a regular
  // file (a FIFO would block). What capture and restore use: a hive comes
  // from an untrusted volume and goes into the target only.
  static Result<Hive> OpenBeneath(int dir_fd, const std::string& rel,
                                  bool writable);

  // Whether a hive file's first bytes say it is dirty (see dirty()): its
  // header's two sequence numbers (bytes 4..11) differ, or the header is
  // too short to tell.
  static bool DirtyHeader(std::string_view head);

  // Windows wrote changes to the hive's transaction logs (.LOG1, .LOG2)
  // that are not yet in the file (its header's two sequence numbers
  // differ): the file alone is older than what Windows last saw.
  bool dirty() const { return dirty_; }

  Hive(Hive&&) noexcept;
  Hive& operator=(Hive&&) noexcept;
  ~Hive();

  const std::string& path() const { return path_; }
  Node root() const;

  Result<std::string> Name(Node node) const;
  Result<std::vector<Node>> Children(Node node) const;
  // The child called `name` (compared case-insensitively, as Windows
  // does), or 0.
  Result<Node> Child(Node node, const std::string& name) const;
  Result<std::vector<Value>> Values(Node node) const;
  Result<ValueData> Read(Value value) const;
  Result<std::string> ValueName(Value value) const;

  // The value `name` of `node`, if it has one.
  Result<bool> Find(Node node, const std::string& name, ValueData* out) const;

  // The child `name` of `node`, created when missing.
  Result<Node> AddChild(Node node, const std::string& name);
  // Sets several values of `node` at once, keeping its others: hivex
  // rewrites a key's whole value list on every change and never reuses
  // the cells it frees, so a key's values are set in one call, not one by
  // one (which grows the hive with the square of their number). Refused,
  // with the key unchanged, when the key already holds a value hivex cannot
  // read or one larger than kMaxCellValue (it would come back damaged).
  Status SetValues(Node node, const std::vector<ValueData>& values);
  // Removes the values of those names (compared without case); Refused as
  // SetValues when the key holds a value hivex would damage.
  Status RemoveValues(Node node, const std::vector<std::string>& names);
  // Deletes a key with everything below it. Never the root.
  Status DeleteKey(Node node);
  // Writes the hive to `target` atomically (see above).
  Status CommitTo(const std::string& target);
  // The same, for `name` in the directory `dir_fd`.
  Status CommitTo(int dir_fd, const std::string& name);

 private:
  struct Handle;
  Hive(std::unique_ptr<Handle> h, std::string path);
  // A key's values, to be written back with changes (Refused when that
  // would damage one), and the writing.
  Result<std::vector<ValueData>> ValuesToRewrite(Node node) const;
  Status WriteValues(Node node, const std::vector<ValueData>& all);
  Status Error(const std::string& what) const;

  std::unique_ptr<Handle> h_;
  std::string path_;
  bool dirty_ = false;
};

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_HIVE_H_
