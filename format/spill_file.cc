#include "format/spill_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "format/file_io.h"
#include "format/header.h"
#include "format/secret.h"

namespace migstore::format {
namespace {

// A file without a name in `dir`: O_TMPFILE, or where the filesystem lacks
// it (some FUSE and network filesystems), a file made and removed at once.
Result<UniqueFd> OpenNameless(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return Status::FromErrno("cannot make a scratch file in " + dir, errno);
  std::string name = dir + "/.migstore-spill-XXXXXX";
  fd = UniqueFd(::mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid())
    return Status::FromErrno("cannot make a scratch file in " + dir, errno);
  if (::unlink(name.c_str()) != 0) {
    return Status::FromErrno("cannot remove the scratch file's name " + name,
                             errno);
  }
  return fd;
}

}  // namespace

SpillFile::SpillFile(UniqueFd fd, std::string dir)
    : fd_(std::move(fd)),
      dir_(std::move(dir)),
      codec_(
          [] {
            StoreId id;
            RandomFill(id.data(), id.size());
            return id;
          }(),
          SecretBytes::Random(32)) {}

std::vector<std::string> DefaultSpillDirs() {
  std::vector<std::string> dirs;
  const char* tmp = std::getenv("TMPDIR");
  if (tmp != nullptr) dirs.push_back(tmp);
  dirs.push_back("/tmp");
  return dirs;
}

Result<std::unique_ptr<SpillFile>> SpillFile::Create(
    const std::vector<std::string>& dirs) {
  std::string tried;
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    auto fd = OpenNameless(dir);
    if (fd.ok()) {
      return std::unique_ptr<SpillFile>(new SpillFile(std::move(*fd), dir));
    }
    tried += (tried.empty() ? "" : "; ") + fd.status().ToString();
  }
  return Status::IOError("no room for the capture's scratch file", tried);
}

Result<SpillFile::Piece> SpillFile::Write(std::string_view plain) {
  Piece p;
  p.number = pieces_;
  p.offset = size_;
  SealOptions seal;
  seal.level = 1;  // a scratch file: the cheapest level that still halves it
  codec_.Seal(p.number, BlockType::kCatalogSegment, plain, seal, &frame_);
  MIGSTORE_RETURN_IF_ERROR(
      WriteAll(fd_.get(), frame_, "the capture's scratch file in " + dir_));
  p.length = static_cast<uint32_t>(frame_.size());
  size_ += frame_.size();
  ++pieces_;
  return p;
}

Status SpillFile::Read(const Piece& piece, std::string* plain) const {
  std::string& frame = read_frame_;
  frame.resize(piece.length);
  MIGSTORE_ASSIGN_OR_RETURN(
      size_t n, PreadFull(fd_.get(), piece.offset, frame.size(), frame.data(),
                          "the capture's scratch file in " + dir_));
  if (n != frame.size()) {
    return Status::Corruption("the capture's scratch file in " + dir_ +
                              " ends early");
  }
  Status s = codec_.Open(piece.number, frame, plain);
  if (!s.ok()) return s.WithContext("the capture's scratch file in " + dir_);
  return Status::OK();
}

}  // namespace migstore::format
