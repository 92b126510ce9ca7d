#include "engine/src/registry/registry_cleanup.h"

#include <unordered_set>

#include "engine/base/case_fold.h"
#include "engine/src/registry/hive_files.h"

namespace migstore::registry {
namespace {

// As the capture's walk: Windows nests keys at most 512 deep.
constexpr int kMaxDepth = 512;

class Cleaner {
 public:
  Cleaner(Hive* hive, const std::string& control_set, const Matcher& rules,
          int32_t profile, CleanupResult* out)
      : hive_(hive),
        control_set_(control_set),
        rules_(rules),
        profile_(profile),
        out_(out) {}

  // Cleans below `node` (key path `key`); *deleted tells whether the key
  // itself was then deleted.
  Status Clean(Hive::Node node, const std::string& key, int depth,
               bool* deleted) {
    *deleted = false;
    if (!rules_.MayCleanUpBelowRegistry(key, profile_) && depth > 0 &&
        !rules_.CleansUpRegistry(key, profile_, nullptr).taken) {
      return Status::OK();
    }
    if (depth > kMaxDepth || !on_path_.insert(node).second) {
      return Status::Corruption(
          hive_->path(),
          "the keys under " + key + " form a cycle or nest too deep");
    }
    Status s = CleanKey(node, key, depth, deleted);
    on_path_.erase(node);
    return s;
  }

 private:
  Status CleanKey(Hive::Node node, const std::string& key, int depth,
                  bool* deleted) {
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Hive::Value> values,
                              hive_->Values(node));
    std::vector<std::string> doomed;
    for (Hive::Value v : values) {
      auto name = hive_->ValueName(v);
      if (!name.ok()) continue;  // unreadable: left as it is
      if (rules_.CleansUpRegistry(key, profile_, &*name).taken)
        doomed.push_back(std::move(*name));
    }
    size_t left = values.size();
    if (!doomed.empty()) {
      Status s = hive_->RemoveValues(node, doomed);
      if (s.IsRefused()) {
        out_->notes.push_back(
            HiveIssue::Note(key, "destinationCleanup left the key as it was: " +
                                     std::string(s.message())));
      } else {
        MIGSTORE_RETURN_IF_ERROR(s);
        out_->values += doomed.size();
        left -= doomed.size();
      }
    }
    MIGSTORE_ASSIGN_OR_RETURN(std::vector<Hive::Node> children,
                              hive_->Children(node));
    size_t children_left = children.size();
    for (Hive::Node child : children) {
      MIGSTORE_ASSIGN_OR_RETURN(std::string name, hive_->Name(child));
      if (name.empty() || name.find('\\') != std::string::npos) continue;
      if (depth == 0 && !control_set_.empty() &&
          internal::EqualsFolded(name, control_set_)) {
        name = "CurrentControlSet";
      }
      // HKCU\Software\Classes is UsrClass.dat (hive_files.h), cleaned as
      // a hive of its own; NTUSER.DAT's key of that name is not it.
      if (internal::EqualsFolded(key + "\\" + name, kUserClasses)) continue;
      bool child_deleted = false;
      MIGSTORE_RETURN_IF_ERROR(
          Clean(child, key + "\\" + name, depth + 1, &child_deleted));
      if (child_deleted) --children_left;
    }
    if (depth > 0 && left == 0 && children_left == 0 &&
        rules_.CleansUpRegistry(key, profile_, nullptr).taken) {
      MIGSTORE_RETURN_IF_ERROR(hive_->DeleteKey(node));
      ++out_->keys;
      *deleted = true;
    }
    return Status::OK();
  }

  Hive* hive_;
  const std::string& control_set_;
  const Matcher& rules_;
  int32_t profile_;
  CleanupResult* out_;
  std::unordered_set<Hive::Node> on_path_;
};

}  // namespace

Status CleanUpHive(Hive* hive, const std::string& mount,
                   const std::string& control_set, const Matcher& rules,
                   int32_t profile, CleanupResult* out) {
  if (rules.registry_cleanup_rule_count() == 0) return Status::OK();
  Cleaner cleaner(hive, control_set, rules, profile, out);
  bool deleted = false;
  return cleaner.Clean(hive->root(), mount, 0, &deleted);
}

}  // namespace migstore::registry
