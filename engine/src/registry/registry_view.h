// RegistryView: what the rules' conditions read of a root's offline hives
// (docs/rules.md, "Detection"): whether a key or value exists, and a
// value's data. HKLM comes from the root's SOFTWARE and SYSTEM hives
// (CurrentControlSet is the set Select\Current names), HKCU from a user's
// NTUSER.DAT. Each hive is opened once, read-only, below the root without
// following symlinks; a hive that is missing or cannot be read gives
// kUnknown, so a condition on it is taken as true as before, never false.
//
// Thread safety: not thread-safe; one per rules compilation.

#ifndef MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_VIEW_H_
#define MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_VIEW_H_

#include <map>
#include <memory>
#include <string>

#include "engine/base/unique_fd.h"
#include "engine/src/registry/hive.h"
#include "migstore/profiles.h"

namespace migstore::registry {

class RegistryView {
 public:
  enum class Answer : uint8_t { kNo, kYes, kUnknown };

  explicit RegistryView(const Machine& machine);
  ~RegistryView();
  RegistryView(const RegistryView&) = delete;
  RegistryView& operator=(const RegistryView&) = delete;

  // `key` is a full key path ("HKLM\SOFTWARE\Foo", "HKCU\Software\Foo");
  // `user` the profile whose hive is HKCU (null: HKCU is kUnknown).
  Answer KeyExists(const std::string& key, const UserProfile* user);
  // The value `name` of `key` ("*": whether the key has any value). With
  // kYes and a value name, *out holds it.
  Answer Value(const std::string& key, const UserProfile* user,
               const std::string& name, Hive::ValueData* out);

 private:
  struct Opened;
  // The hive and node of `key`; kNo when the key is absent.
  Answer Find(const std::string& key, const UserProfile* user,
              const Hive** hive, Hive::Node* node);
  Opened* Open(const std::string& rel, bool system);

  const Machine& machine_;
  UniqueFd root_;
  std::map<std::string, std::unique_ptr<Opened>> hives_;  // by file
};

}  // namespace migstore::registry

#endif  // MIGSTORE_ENGINE_SRC_REGISTRY_REGISTRY_VIEW_H_
