// StoreBuilder: a hard-link store being written, which appears under its
// final name whole or not at all, as a container does.
//
// Create() makes a directory beside the final path, ".<name>.migtmp-<16
// hex>", mode 0700, with the marker and an empty files/ in it, and holds an
// exclusive flock on it while the capture runs. The capture links files
// below files_fd() and writes the catalog at catalog_path(). Commit() makes
// the store's directories read-only (0500; the marker and catalog 0400),
// syncs the filesystem (the store must survive a power cut before the
// profiles it links are wiped), and renames the directory into place.
// Abandon(), or destruction before Commit, removes it (remove_store.h).
//
// An existing final path is AlreadyExists, unless `overwrite` and it is a
// hard-link store (remove_store.h's InspectStore): then Commit exchanges
// the two atomically (renameat2 RENAME_EXCHANGE) and removes the old one,
// so there is always a whole store under the name. Anything else under the
// name (a container file, a directory that is not a store) is never
// replaced.
//
// A capture killed half-way leaves its directory behind, unlocked; the next
// Create() for the same final path removes every such directory whose lock
// it can take, and never one a live capture holds.
//
// Thread safety: one thread at a time; files_fd() may be used from any
// thread.

#ifndef MIGSTORE_ENGINE_SRC_HARDLINK_STORE_BUILDER_H_
#define MIGSTORE_ENGINE_SRC_HARDLINK_STORE_BUILDER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/base/unique_fd.h"
#include "format/header.h"
#include "migstore/result.h"

namespace migstore::hardlink {

class StoreBuilder {
 public:
  static Result<std::unique_ptr<StoreBuilder>> Create(
      const std::string& final_path, bool overwrite, const format::StoreId& id);
  ~StoreBuilder() { Abandon(); }
  StoreBuilder(const StoreBuilder&) = delete;
  StoreBuilder& operator=(const StoreBuilder&) = delete;

  int files_fd() const { return files_fd_.get(); }
  const std::string& temp_path() const { return temp_path_; }
  std::string catalog_path() const;
  // (device, inode) of the directories a walk must not enter: this store
  // and the one it replaces.
  std::set<std::pair<uint64_t, uint64_t>> Exclusions() const {
    return exclusions_;
  }

  // `dirs`: the directories made below files/ (relative to it). On success
  // the store is in place; *note is set when a replaced store could not be
  // removed (the new one is in place all the same).
  Status Commit(const std::vector<std::string>& dirs, std::string* note);
  void Abandon();

 private:
  StoreBuilder() = default;
  Status Place();

  std::string final_path_;
  std::string final_name_;
  std::string temp_path_;
  std::string temp_name_;
  UniqueFd parent_fd_;
  UniqueFd dir_fd_;  // holds the flock
  UniqueFd files_fd_;
  bool replace_ = false;  // a store is there, to be exchanged out
  dev_t old_dev_ = 0;
  ino_t old_ino_ = 0;
  std::set<std::pair<uint64_t, uint64_t>> exclusions_;
  bool done_ = false;
};

}  // namespace migstore::hardlink

#endif  // MIGSTORE_ENGINE_SRC_HARDLINK_STORE_BUILDER_H_
