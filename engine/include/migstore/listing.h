// Listing a store: its summary, its users and every entry, without
// restoring anything. Entries stream in catalog order (by user, then path)
// one catalog segment at a time, so listing a store of millions of files
// needs memory for one segment, not the whole catalog.
//
// Thread safety: ListStore may run concurrently with itself.

#ifndef MIGSTORE_LISTING_H_
#define MIGSTORE_LISTING_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "migstore/key.h"
#include "migstore/status.h"

namespace migstore {

struct StoreUser {
  std::string name;
  std::string home;    // root-relative profile directory
  std::string layout;  // "linux", "windows" or "" when unknown
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string sid;  // Windows SID when known
  int64_t last_use_ns = 0;
  std::vector<std::pair<std::string, std::string>>
      folders;  // ("DOCUMENTS", path)
};

struct StoreSummary {
  int format_version = 0;
  std::string kind;        // "container" or "hardlink" (a hard-link store)
  std::string encryption;  // "none", "password" or "key file"
  // What seals the blocks: "xchacha20-poly1305", "aes-256-gcm", or "none"
  // for a store that is not encrypted.
  std::string cipher;
  uint64_t file_size = 0;  // bytes of the store file (a hard-link store's
                           // catalog)
  uint64_t entries = 0;
  uint64_t contents = 0;  // distinct file contents stored
  std::vector<std::pair<std::string, std::string>> properties;
  std::vector<StoreUser> users;
};

struct StoreEntry {
  std::string user;  // the profile's user name; empty outside every profile
  std::string path;  // root-relative, raw bytes
  const char* type = "file";  // "file", "dir", "symlink" or "fifo"
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits, 07777
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string owner;  // names as captured; empty when unknown
  std::string group;
  int64_t mtime_ns = 0;
  std::string symlink_target;
  uint64_t link_group = 0;  // non-zero for hard-linked files
  size_t xattrs = 0;        // number of extended attributes
};

// A registry key or value the store holds (docs/rules.md, "Registry").
struct StoreSetting {
  std::string user;  // whose HKCU; empty for HKLM
  std::string key;   // "HKCU\Software\Contoso"
  bool is_value = false;
  std::string name;   // the value's name; "" its key's default value
  std::string type;   // "REG_SZ", "REG_DWORD", ...
  uint64_t size = 0;  // data bytes
  // The data as a person reads it: strings decoded, numbers in decimal,
  // anything else in hex.
  std::string text;
};

// Opens the store, fills *summary, then calls on_entry for every entry. A
// non-OK status from on_entry stops the listing and is returned.
// Errors: NotFound, NotAStore, UnsupportedVersion, WrongKey, Refused (by
// `policy`: an unencrypted store given a key, a key derivation costlier
// than allowed), Corruption.
Status ListStore(const std::string& store_path, const Key& key,
                 const KeyPolicy& policy, StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry);
// The same with the default KeyPolicy.
Status ListStore(const std::string& store_path, const Key& key,
                 StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry);
// ListStore, then on_setting for every registry key and value, in key
// order (after every entry).
Status ListStore(const std::string& store_path, const Key& key,
                 const KeyPolicy& policy, StoreSummary* summary,
                 const std::function<Status(const StoreEntry&)>& on_entry,
                 const std::function<Status(const StoreSetting&)>& on_setting);

}  // namespace migstore

#endif  // MIGSTORE_LISTING_H_
