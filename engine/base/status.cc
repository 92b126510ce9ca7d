#include "migstore/status.h"

#include <cstring>
#include <string>

namespace migstore {

Status::Status(Code code, std::string_view msg, std::string_view msg2,
               int sys_errno) {
  auto rep = std::make_unique<Rep>();
  rep->code = code;
  rep->sys_errno = sys_errno;
  rep->message.reserve(msg.size() + (msg2.empty() ? 0 : msg2.size() + 2));
  rep->message.append(msg);
  if (!msg2.empty()) {
    rep->message.append(": ");
    rep->message.append(msg2);
  }
  rep_ = std::move(rep);
}

Status::Status(const Status& other)
    : rep_(other.rep_ ? std::make_unique<const Rep>(*other.rep_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    rep_ = other.rep_ ? std::make_unique<const Rep>(*other.rep_) : nullptr;
  }
  return *this;
}

Status Status::Corruption(std::string_view msg, std::string_view msg2) {
  return Status(Code::kCorruption, msg, msg2);
}
Status Status::WrongKey(std::string_view msg, std::string_view msg2) {
  return Status(Code::kWrongKey, msg, msg2);
}
Status Status::KeyUnreadable(std::string_view msg, std::string_view msg2) {
  return Status(Code::kKeyUnreadable, msg, msg2);
}
Status Status::NotAStore(std::string_view msg, std::string_view msg2) {
  return Status(Code::kNotAStore, msg, msg2);
}
Status Status::UnsupportedVersion(std::string_view msg, std::string_view msg2) {
  return Status(Code::kUnsupportedVersion, msg, msg2);
}
Status Status::IOError(std::string_view msg, std::string_view msg2) {
  return Status(Code::kIOError, msg, msg2);
}
Status Status::FromErrno(std::string_view msg, int err) {
  char buf[256];
  // GNU strerror_r may return a static string instead of filling buf.
  const char* text = strerror_r(err, buf, sizeof(buf));
  return Status(Code::kIOError, msg, text, err);
}
Status Status::InvalidArgument(std::string_view msg, std::string_view msg2) {
  return Status(Code::kInvalidArgument, msg, msg2);
}
Status Status::NotFound(std::string_view msg, std::string_view msg2) {
  return Status(Code::kNotFound, msg, msg2);
}
Status Status::AlreadyExists(std::string_view msg, std::string_view msg2) {
  return Status(Code::kAlreadyExists, msg, msg2);
}
Status Status::Cancelled(std::string_view msg, std::string_view msg2) {
  return Status(Code::kCancelled, msg, msg2);
}
Status Status::Stopped(std::string_view msg, std::string_view msg2) {
  return Status(Code::kStopped, msg, msg2);
}
Status Status::Refused(std::string_view msg, std::string_view msg2) {
  return Status(Code::kRefused, msg, msg2);
}
Status Status::Unavailable(std::string_view msg, std::string_view msg2) {
  return Status(Code::kUnavailable, msg, msg2);
}

Status Status::NoSpace(std::string_view msg, std::string_view msg2) {
  return Status(Code::kNoSpace, msg, msg2);
}

Status Status::NoAccount(std::string_view msg, std::string_view msg2) {
  return Status(Code::kNoAccount, msg, msg2);
}

std::string_view Status::message() const {
  return rep_ ? std::string_view(rep_->message) : std::string_view();
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  const char* name = "Unknown";
  switch (rep_->code) {
    case Code::kOk:
      name = "OK";
      break;
    case Code::kCorruption:
      name = "Corruption";
      break;
    case Code::kWrongKey:
      name = "Wrong key";
      break;
    case Code::kKeyUnreadable:
      name = "Key unreadable";
      break;
    case Code::kNotAStore:
      name = "Not a store";
      break;
    case Code::kUnsupportedVersion:
      name = "Unsupported version";
      break;
    case Code::kIOError:
      name = "I/O error";
      break;
    case Code::kInvalidArgument:
      name = "Invalid argument";
      break;
    case Code::kNotFound:
      name = "Not found";
      break;
    case Code::kAlreadyExists:
      name = "Already exists";
      break;
    case Code::kCancelled:
      name = "Cancelled";
      break;
    case Code::kStopped:
      name = "Stopped";
      break;
    case Code::kRefused:
      name = "Refused";
      break;
    case Code::kUnavailable:
      name = "Store unavailable";
      break;
    case Code::kNoSpace:
      name = "Not enough free space";
      break;
    case Code::kNoAccount:
      name = "Account missing";
      break;
  }
  std::string out(name);
  out.append(": ");
  out.append(rep_->message);
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return Status();
  const std::string_view m = rep_->message;
  if (m.size() >= context.size() &&
      m.compare(0, context.size(), context) == 0 &&
      (m.size() == context.size() || m.compare(context.size(), 2, ": ") == 0)) {
    return *this;
  }
  return Status(rep_->code, context, rep_->message, rep_->sys_errno);
}

}  // namespace migstore
