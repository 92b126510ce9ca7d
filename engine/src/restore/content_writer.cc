#include "engine/src/restore/content_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace migstore::restore {

std::vector<uint64_t> BlocksOf(const format::Content& c) {
  std::vector<uint64_t> out;
  for (const format::Chunk& ch : c.chunks) {
    if (std::find(out.end() - std::min<ptrdiff_t>(out.size(), 4), out.end(),
                  ch.block) != out.end()) {
      continue;  // the common case: a block met again right away
    }
    if (std::find(out.begin(), out.end(), ch.block) == out.end())
      out.push_back(ch.block);
  }
  return out;
}

Status RangeWriter::Write(std::string_view piece) {
  while (!piece.empty()) {
    uint64_t at = 0, room = 0;
    if (!c_.sparse) {
      at = stored_;
      room = c_.size - stored_;
    } else {
      while (range_ < c_.ranges.size() &&
             in_range_ == c_.ranges[range_].length) {
        ++range_;
        in_range_ = 0;
      }
      if (range_ < c_.ranges.size()) {
        at = c_.ranges[range_].offset + in_range_;
        room = c_.ranges[range_].length - in_range_;
      }
    }
    if (room == 0) {
      return Status::Corruption(what_, "more stored bytes than the file holds");
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(room, piece.size()));
    MIGSTORE_RETURN_IF_ERROR(PwriteAll(piece.substr(0, n), at));
    piece.remove_prefix(n);
    stored_ += n;
    in_range_ += n;
    end_ = std::max(end_, at + n);
  }
  return Status::OK();
}

void RangeWriter::Skip(uint64_t n) {
  stored_ += n;
  end_ = std::max(end_, stored_);
}

Status RangeWriter::PwriteAll(std::string_view data, uint64_t at) {
  while (!data.empty()) {
    ssize_t w = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(at));
    if (w < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("cannot write " + what_, errno);
    }
    data.remove_prefix(static_cast<size_t>(w));
    at += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

ReadAhead::ReadAhead(BlockPool* pool, const format::Content& c, int fd,
                     size_t window)
    : pool_(pool), c_(c), fd_(fd), window_(window), blocks_(BlocksOf(c)) {
  // Sparse content: pieces map to file offsets through the data ranges,
  // which only the in-order pass walks; its blocks are decoded ahead only.
  if (c.sparse) return;
  uint64_t at = 0;
  starts_.reserve(c.chunks.size());
  for (const format::Chunk& ch : c.chunks) {
    starts_.push_back(at);
    at += ch.length;
  }
  done_ = std::make_unique<std::atomic<bool>[]>(c.chunks.size());
}

void ReadAhead::Asked(uint64_t block) {
  while (at_ < blocks_.size() && blocks_[at_] != block) ++at_;
  for (; next_ <= at_ + window_ && next_ < blocks_.size(); ++next_) {
    uint64_t b = blocks_[next_];
    parallel::Run(group_, [this, b] { Run(b); });
  }
}

bool ReadAhead::Written(uint64_t at, uint64_t length) const {
  if (!done_) return false;
  auto it = std::lower_bound(starts_.begin(), starts_.end(), at);
  if (it == starts_.end() || *it != at) return false;
  size_t i = static_cast<size_t>(it - starts_.begin());
  return c_.chunks[i].length == length && done_[i].load();
}

void ReadAhead::Run(uint64_t block) {
  pool_->Prefetch(block);
  if (!done_) return;
  auto plain = pool_->Acquire(block);
  if (!plain.ok()) return;  // the in-order pass meets it and reports it
  for (size_t i = 0; i < c_.chunks.size(); ++i) {
    const format::Chunk& ch = c_.chunks[i];
    if (ch.block != block ||
        uint64_t{ch.offset} + ch.length > (*plain)->size()) {
      continue;
    }
    const char* data = (*plain)->data() + ch.offset;
    size_t left = ch.length;
    uint64_t at = starts_[i];
    while (left > 0) {
      ssize_t w = ::pwrite(fd_, data, left, static_cast<off_t>(at));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;  // the in-order pass writes it, and reports
      data += w;
      left -= static_cast<size_t>(w);
      at += static_cast<uint64_t>(w);
    }
    done_[i].store(true);
  }
}

}  // namespace migstore::restore
