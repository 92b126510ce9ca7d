#include "engine/src/registry/hive.h"

#include <fcntl.h>
#include <hivex.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/base/case_fold.h"
#include "engine/base/unique_fd.h"
#include "engine/src/fs/copy_file.h"
#include "engine/src/fs/open_beneath.h"

namespace migstore::registry {

struct Hive::Handle {
  hive_h* h = nullptr;
  ~Handle() {
    if (h != nullptr) hivex_close(h);
  }
};

namespace {

// hivex returns malloc'd memory.
struct Freer {
  void operator()(void* p) const { std::free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Freer>;

}  // namespace

Hive::Hive(std::unique_ptr<Handle> h, std::string path)
    : h_(std::move(h)), path_(std::move(path)) {}
Hive::Hive(Hive&&) noexcept = default;
Hive& Hive::operator=(Hive&&) noexcept = default;
Hive::~Hive() = default;

Result<Hive> Hive::Open(const std::string& path, bool writable) {
  auto h = std::make_unique<Handle>();
  errno = 0;
  h->h = hivex_open(path.c_str(), writable ? HIVEX_OPEN_WRITE : 0);
  if (h->h == nullptr) {
    int e = errno;
    if (e == ENOENT) return Status::NotFound(path, "no such hive file");
    if (e == EACCES || e == EIO || e == EMFILE || e == ENOMEM)
      return Status::FromErrno(path, e);
    return Status::Corruption(
        path, "not a registry hive hivex can read (" +
                  std::string(e != 0 ? std::strerror(e) : "unknown") + ")");
  }
  return Hive(std::move(h), path);
}

Result<Hive> Hive::OpenBeneath(int dir_fd, const std::string& rel,
                               bool writable) {
  auto fd = fs::OpenBeneath(dir_fd, rel, O_RDONLY | O_NONBLOCK);
  if (!fd.ok()) {
    if (fs::LastOpenErrno() == ENOENT)
      return Status::NotFound(rel, "no such hive file");
    return fd.status();
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Status::FromErrno(rel, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(rel, "not a regular file");
  }
  // The header's sequence numbers: hivex does not say them.
  char head[12] = {};
  const bool dirty =
      ::pread(fd->get(), head, sizeof(head), 0) == sizeof(head) &&
      DirtyHeader(std::string_view(head, sizeof(head)));
  MIGSTORE_ASSIGN_OR_RETURN(
      Hive hive, Open("/proc/self/fd/" + std::to_string(fd->get()), writable));
  hive.path_ = rel;
  hive.dirty_ = dirty;
  return hive;
}

bool Hive::DirtyHeader(std::string_view head) {
  return head.size() < 12 || head.substr(4, 4) != head.substr(8, 4);
}

Status Hive::Error(const std::string& what) const {
  int e = errno;
  return Status::Corruption(
      path_, what + (e != 0 ? std::string(": ") + std::strerror(e) : ""));
}

Hive::Node Hive::root() const { return hivex_root(h_->h); }

Result<std::string> Hive::Name(Node node) const {
  errno = 0;
  Owned<char> name(hivex_node_name(h_->h, node));
  if (!name) return Error("unreadable key name");
  return std::string(name.get());
}

Result<std::vector<Hive::Node>> Hive::Children(Node node) const {
  errno = 0;
  Owned<hive_node_h> list(hivex_node_children(h_->h, node));
  if (!list) return Error("unreadable subkey list");
  std::vector<Node> out;
  for (hive_node_h* p = list.get(); *p != 0; ++p) out.push_back(*p);
  return out;
}

Result<Hive::Node> Hive::Child(Node node, const std::string& name) const {
  errno = 0;
  hive_node_h child = hivex_node_get_child(h_->h, node, name.c_str());
  if (child == 0 && errno != 0) return Error("unreadable subkey list");
  return static_cast<Node>(child);
}

Result<std::vector<Hive::Value>> Hive::Values(Node node) const {
  errno = 0;
  Owned<hive_value_h> list(hivex_node_values(h_->h, node));
  if (!list) return Error("unreadable value list");
  std::vector<Value> out;
  for (hive_value_h* p = list.get(); *p != 0; ++p) out.push_back(*p);
  return out;
}

Result<std::string> Hive::ValueName(Value value) const {
  errno = 0;
  Owned<char> key(hivex_value_key(h_->h, value));
  if (!key) return Error("unreadable value name");
  return std::string(key.get());
}

Result<Hive::ValueData> Hive::Read(Value value) const {
  ValueData v;
  MIGSTORE_ASSIGN_OR_RETURN(v.name, ValueName(value));
  hive_type t;
  size_t len = 0;
  errno = 0;
  Owned<char> data(hivex_value_value(h_->h, value, &t, &len));
  if (!data) return Error("unreadable value " + v.name);
  v.type = static_cast<uint32_t>(t);
  v.data.assign(data.get(), len);
  return v;
}

Result<bool> Hive::Find(Node node, const std::string& name,
                        ValueData* out) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<Value> values, Values(node));
  for (Value value : values) {
    MIGSTORE_ASSIGN_OR_RETURN(ValueData v, Read(value));
    if (internal::EqualsFolded(v.name, name)) {
      *out = std::move(v);
      return true;
    }
  }
  return false;
}

Result<Hive::Node> Hive::AddChild(Node node, const std::string& name) {
  MIGSTORE_ASSIGN_OR_RETURN(Node existing, Child(node, name));
  if (existing != 0) return existing;
  errno = 0;
  hive_node_h child = hivex_node_add_child(h_->h, node, name.c_str());
  if (child == 0) return Error("cannot add key " + name);
  return static_cast<Node>(child);
}

Result<std::vector<Hive::ValueData>> Hive::ValuesToRewrite(Node node) const {
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<Value> old, Values(node));
  std::vector<ValueData> all;
  for (Value value : old) {
    // hivex writes the whole list back, each value in one cell: a value it
    // cannot read, or one Windows keeps in a big-data record, would come
    // back damaged. The key is left as it is.
    auto v = Read(value);
    if (!v.ok()) {
      return Status::Refused(path_, "a key holds a value hivex cannot read (" +
                                        v.status().ToString() + ")");
    }
    if (v->data.size() > kMaxCellValue) {
      return Status::Refused(path_, "a key holds a value of " +
                                        std::to_string(v->data.size()) +
                                        " bytes (" + v->name +
                                        "), which hivex would rewrite in a "
                                        "form Windows does not read");
    }
    all.push_back(std::move(*v));
  }
  return all;
}

Status Hive::WriteValues(Node node, const std::vector<ValueData>& all) {
  std::vector<hive_set_value> set(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    set[i].key = const_cast<char*>(all[i].name.data());
    set[i].t = static_cast<hive_type>(all[i].type);
    set[i].len = all[i].data.size();
    set[i].value = const_cast<char*>(all[i].data.data());
  }
  errno = 0;
  if (hivex_node_set_values(h_->h, node, set.size(), set.data(), 0) != 0)
    return Error("cannot set the values of a key");
  return Status::OK();
}

Status Hive::SetValues(Node node, const std::vector<ValueData>& values) {
  if (values.empty()) return Status::OK();
  // The key's values as they are, then each new one replacing the value of
  // its name (Windows compares value names without case) or added.
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<ValueData> all, ValuesToRewrite(node));
  for (const ValueData& v : values) {
    bool replaced = false;
    for (ValueData& a : all) {
      if (internal::EqualsFolded(a.name, v.name)) {
        a = v;
        replaced = true;
        break;
      }
    }
    if (!replaced) all.push_back(v);
  }
  return WriteValues(node, all);
}

Status Hive::RemoveValues(Node node, const std::vector<std::string>& names) {
  if (names.empty()) return Status::OK();
  MIGSTORE_ASSIGN_OR_RETURN(std::vector<ValueData> all, ValuesToRewrite(node));
  std::erase_if(all, [&](const ValueData& v) {
    for (const std::string& n : names) {
      if (internal::EqualsFolded(v.name, n)) return true;
    }
    return false;
  });
  return WriteValues(node, all);
}

Status Hive::DeleteKey(Node node) {
  if (node == root())
    return Status::InvalidArgument(path_, "the root key stays");
  errno = 0;
  if (hivex_node_delete_child(h_->h, node) != 0)
    return Error("cannot delete a key");
  return Status::OK();
}

Status Hive::CommitTo(const std::string& target) {
  const size_t slash = target.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : target.substr(0, slash + 1);
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return Status::FromErrno(dir, errno);
  return CommitTo(dir_fd.get(), slash == std::string::npos
                                    ? target
                                    : target.substr(slash + 1));
}

Status Hive::CommitTo(int dir_fd, const std::string& name) {
  struct stat old {};
  const bool had =
      ::fstatat(dir_fd, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
  // The temporary is made here, exclusively and without following a link,
  // under a name no one can guess; hivex then writes through its fd.
  unsigned char random[8];
  if (sodium_init() < 0) return Status::IOError("libsodium cannot start");
  randombytes_buf(random, sizeof(random));
  char suffix[17];
  for (size_t i = 0; i < sizeof(random); ++i)
    std::snprintf(suffix + 2 * i, 3, "%02x", random[i]);
  const std::string tmp = name + ".migstore-" + suffix + ".tmp";
  UniqueFd fd(::openat(dir_fd, tmp.c_str(),
                       O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600));
  if (!fd.valid()) return Status::FromErrno("creating " + tmp, errno);
  auto fail = [&](Status s) {
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return s;
  };
  errno = 0;
  if (hivex_commit(h_->h, ("/proc/self/fd/" + std::to_string(fd.get())).c_str(),
                   0) != 0) {
    return fail(Status::FromErrno("writing hive " + name, errno));
  }
  if (had) {
    // The hive keeps what the old file had: mode, owner, and its extended
    // attributes (an NTFS volume's ACL and attribute flags live there).
    if (::fchmod(fd.get(), old.st_mode & 07777) != 0)
      return fail(Status::FromErrno("chmod " + tmp, errno));
    if (::fchown(fd.get(), old.st_uid, old.st_gid) != 0 && errno != EPERM)
      return fail(Status::FromErrno("chown " + tmp, errno));
    UniqueFd src(::openat(dir_fd, name.c_str(),
                          O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (src.valid()) {
      Status x = fs::CopyXattrs(src.get(), fd.get(), name,
                                [](const std::string&, int) {});
      if (!x.ok()) return fail(x);
    }
  }
  if (::fsync(fd.get()) != 0)
    return fail(Status::FromErrno("fsync " + tmp, errno));
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0)
    return fail(Status::FromErrno("renaming " + tmp, errno));
  if (::fsync(dir_fd) != 0)
    return Status::FromErrno("fsync of the folder of " + name, errno);
  return Status::OK();
}

}  // namespace migstore::registry
