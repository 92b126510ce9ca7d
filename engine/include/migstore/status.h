// Status: the outcome of an operation, success or a categorised error with a
// message. migstore never throws across its public API; every fallible call
// returns a Status or a Result<T> (result.h).
//
// An OK status holds no allocation, so success costs one null pointer. The
// categories are private; callers ask with the Is...() predicates, and the
// command line maps them to USMT's exit codes (docs/cli.md).
//
// Thread safety: a Status is a value. Distinct objects may be used from
// distinct threads; one object must not be written while it is read.

#ifndef MIGSTORE_STATUS_H_
#define MIGSTORE_STATUS_H_

#include <memory>
#include <string>
#include <string_view>

namespace migstore {

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }

  // Stored data failed a check: a bad checksum or tag, an impossible field,
  // a truncated structure. The data is damaged (or was tampered with).
  static Status Corruption(std::string_view msg, std::string_view msg2 = {});
  // The store is encrypted and the key or password given does not open it,
  // or none was given.
  static Status WrongKey(std::string_view msg, std::string_view msg2 = {});
  // A key file or password source could not be read or is malformed.
  static Status KeyUnreadable(std::string_view msg, std::string_view msg2 = {});
  // The file is not a migstore store at all (no magic, not a regular file).
  static Status NotAStore(std::string_view msg, std::string_view msg2 = {});
  // The store was written by a newer format version or uses a feature this
  // build does not know.
  static Status UnsupportedVersion(std::string_view msg,
                                   std::string_view msg2 = {});
  // The operating system refused an operation (open, read, write, fsync...).
  static Status IOError(std::string_view msg, std::string_view msg2 = {});
  // IOError built from an errno value: "msg: strerror(err)".
  static Status FromErrno(std::string_view msg, int err);
  // The caller passed something unusable.
  static Status InvalidArgument(std::string_view msg,
                                std::string_view msg2 = {});
  static Status NotFound(std::string_view msg, std::string_view msg2 = {});
  // Something that must not be replaced already exists.
  static Status AlreadyExists(std::string_view msg, std::string_view msg2 = {});
  // The operation was stopped on request.
  static Status Cancelled(std::string_view msg, std::string_view msg2 = {});
  // The operation stopped at the first error with one file, as asked (no
  // --continue-on-error); nothing was committed.
  static Status Stopped(std::string_view msg, std::string_view msg2 = {});
  // The store is well formed, but the caller's policy does not accept it:
  // an unencrypted store where a key was given, or a key derivation that
  // costs more than the caller allows (migstore/key.h, KeyPolicy).
  static Status Refused(std::string_view msg, std::string_view msg2 = {});
  // The store's location cannot be used right now: a network endpoint that
  // cannot be reached or keeps failing, or a server that refuses the
  // credentials. Retrying later, or fixing the credentials, may help.
  static Status Unavailable(std::string_view msg, std::string_view msg2 = {});
  // Less free space than the run was told to keep (--min-free): nothing
  // was written.
  static Status NoSpace(std::string_view msg, std::string_view msg2 = {});
  // A restore would give files to local accounts the target does not have,
  // and was not told to create them (--create-accounts, LoadState's /lac):
  // nothing was written.
  static Status NoAccount(std::string_view msg, std::string_view msg2 = {});

  bool ok() const { return rep_ == nullptr; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsWrongKey() const { return code() == Code::kWrongKey; }
  bool IsKeyUnreadable() const { return code() == Code::kKeyUnreadable; }
  bool IsNotAStore() const { return code() == Code::kNotAStore; }
  bool IsUnsupportedVersion() const {
    return code() == Code::kUnsupportedVersion;
  }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsAlreadyExists() const { return code() == Code::kAlreadyExists; }
  bool IsCancelled() const { return code() == Code::kCancelled; }
  bool IsStopped() const { return code() == Code::kStopped; }
  bool IsRefused() const { return code() == Code::kRefused; }
  bool IsUnavailable() const { return code() == Code::kUnavailable; }
  bool IsNoSpace() const { return code() == Code::kNoSpace; }
  bool IsNoAccount() const { return code() == Code::kNoAccount; }

  // The message alone; empty for OK.
  std::string_view message() const;
  // "OK", or the category and the message: "Corruption: block 3: bad tag".
  std::string ToString() const;
  // The same category with "context: " put before the message. OK stays OK,
  // and a message that already opens with the context (a store's reader
  // naming the store its source named) is not given it twice.
  Status WithContext(std::string_view context) const;

  // The errno behind an IOError made by FromErrno, else 0. Lets callers tell
  // a full disk (ENOSPC) from a permission problem without parsing text.
  int sys_errno() const { return rep_ ? rep_->sys_errno : 0; }

 private:
  enum class Code : unsigned char {
    kOk = 0,
    kCorruption,
    kWrongKey,
    kKeyUnreadable,
    kNotAStore,
    kUnsupportedVersion,
    kIOError,
    kInvalidArgument,
    kNotFound,
    kAlreadyExists,
    kCancelled,
    kStopped,
    kRefused,
    kUnavailable,
    kNoSpace,
    kNoAccount,
  };
  struct Rep {
    Code code;
    int sys_errno;
    std::string message;
  };

  Status(Code code, std::string_view msg, std::string_view msg2,
         int sys_errno = 0);
  Code code() const { return rep_ ? rep_->code : Code::kOk; }

  std::unique_ptr<const Rep> rep_;  // null means OK
};

}  // namespace migstore

#endif  // MIGSTORE_STATUS_H_
