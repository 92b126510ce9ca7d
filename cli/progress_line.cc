#include "progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace migstore::cli {

std::string HumanBytes(uint64_t b) {
  char buf[32];
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

ProgressLine::ProgressLine() : enabled_(::isatty(1) && ::isatty(2)) {}

void ProgressLine::Update(const char* phase, uint64_t files_done,
                          uint64_t files_total, uint64_t bytes_done,
                          uint64_t bytes_total, double seconds) {
  if (!enabled_) return;
  char line[200];
  int n;
  if (bytes_total == 0) {
    n = std::snprintf(line, sizeof(line), "%-10s %llu files", phase,
                      static_cast<unsigned long long>(files_done));
  } else {
    double rate = seconds > 0.5 ? static_cast<double>(bytes_done) / seconds : 0;
    double left = rate > 0
                      ? static_cast<double>(bytes_total -
                                            std::min(bytes_done, bytes_total)) /
                            rate
                      : 0;
    int pct = static_cast<int>(100.0 * static_cast<double>(bytes_done) /
                               static_cast<double>(bytes_total));
    n = std::snprintf(
        line, sizeof(line),
        "%-10s %3d%%  %s of %s  %llu/%llu files  %s/s  ETA %d:%02d", phase, pct,
        HumanBytes(bytes_done).c_str(), HumanBytes(bytes_total).c_str(),
        static_cast<unsigned long long>(files_done),
        static_cast<unsigned long long>(files_total),
        HumanBytes(static_cast<uint64_t>(rate)).c_str(),
        static_cast<int>(left) / 60, static_cast<int>(left) % 60);
  }
  std::fprintf(stderr, "\r%s", line);
  size_t len = n > 0 ? static_cast<size_t>(n) : 0;
  for (size_t i = len; i < width_; ++i) std::fputc(' ', stderr);
  width_ = std::max(width_, len);
  std::fflush(stderr);
}

void ProgressLine::Clear() {
  if (!enabled_ || width_ == 0) return;
  std::fprintf(stderr, "\r%*s\r", static_cast<int>(width_), "");
  std::fflush(stderr);
  width_ = 0;
}

}  // namespace migstore::cli
