// docs/format.md "Registry segment".

#include <tuple>

#include "format/coding.h"
#include "format/limits.h"
#include "format/registry.h"

namespace migstore::format {
namespace {

Status Bad(std::string_view what) {
  return Status::Corruption("registry segment", what);
}

}  // namespace

bool RegistryRecordLess(const RegistryRecord& a, const RegistryRecord& b) {
  return std::tie(a.profile, a.key, a.has_value, a.name) <
         std::tie(b.profile, b.key, b.has_value, b.name);
}

Status ValidateRegistryRecord(const RegistryRecord& r) {
  auto bad = [&](std::string_view what) {
    return Status::InvalidArgument("registry record " + r.key, what);
  };
  if (r.key.empty() || r.key.size() > limits::kMaxRegistryKeyBytes)
    return bad("key path empty or too long");
  if (r.key.find('\0') != std::string::npos) return bad("NUL in the key path");
  if (r.key.front() == '\\' || r.key.back() == '\\' ||
      r.key.find("\\\\") != std::string::npos) {
    return bad("empty key name in the path");
  }
  if (!r.has_value) {
    if (!r.name.empty() || r.type != 0 || !r.data.empty())
      return bad("a key record carries a value");
    return Status::OK();
  }
  if (r.name.size() > limits::kMaxRegistryNameBytes ||
      r.name.find('\0') != std::string::npos) {
    return bad("value name too long or holds NUL");
  }
  if (r.data.size() > limits::kMaxRegistryData) return bad("value too large");
  return Status::OK();
}

std::string EncodeRegistrySegment(const std::vector<RegistryRecord>& records) {
  std::string out;
  PutVarint(&out, records.size());
  for (const RegistryRecord& r : records) {
    PutVarint(&out, r.profile);
    PutBytes(&out, r.key);
    out.push_back(r.has_value ? 1 : 0);
    if (!r.has_value) continue;
    PutBytes(&out, r.name);
    PutVarint(&out, r.type);
    PutBytes(&out, r.data);
  }
  return out;
}

Result<std::vector<RegistryRecord>> DecodeRegistrySegment(
    std::string_view plain) {
  Decoder d(plain);
  uint64_t n = d.VarintAtMost(limits::kMaxRegistryRecordsPerSegment);
  if (!d.ok() || n == 0) return Bad("malformed record count");
  std::vector<RegistryRecord> out;
  // Every record takes at least 3 bytes: no allocation beyond the input.
  if (n > plain.size() / 3) return Bad("more records than bytes");
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    RegistryRecord r;
    r.profile = static_cast<uint32_t>(d.VarintAtMost(UINT32_MAX));
    r.key = std::string(d.Bytes(limits::kMaxRegistryKeyBytes));
    uint8_t flags = d.U8();
    if (!d.ok()) return Bad("truncated record");
    if (flags > 1) return Bad("unknown record flags");
    r.has_value = flags == 1;
    if (r.has_value) {
      r.name = std::string(d.Bytes(limits::kMaxRegistryNameBytes));
      r.type = static_cast<uint32_t>(d.VarintAtMost(UINT32_MAX));
      r.data = std::string(d.Bytes(limits::kMaxRegistryData));
      if (!d.ok()) return Bad("truncated value");
    }
    Status valid = ValidateRegistryRecord(r);
    if (!valid.ok()) return Bad(std::string(valid.message()));
    if (!out.empty() && !RegistryRecordLess(out.back(), r))
      return Bad("records out of order or repeated");
    out.push_back(std::move(r));
  }
  if (!d.empty()) return Bad("bytes after the last record");
  return out;
}

}  // namespace migstore::format
