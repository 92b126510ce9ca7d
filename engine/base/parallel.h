// The TBB constructs the engine runs work with — parallel_for, task_group
// tasks, parallel_pipeline filters — wrapped so that ThreadSanitizer sees
// the happens-before edges TBB makes when it hands work to a worker and
// when a wait returns.
//
// Why: Debian's libtbb is not built with -fsanitize=thread, so the
// synchronisation inside its scheduler (spawning, stealing, the end of a
// parallel_for, task_group::wait) is invisible to TSan, which then reports
// every hand-over of data to a task as a race. In a TSan build these
// wrappers tell it about each edge with __tsan_release/__tsan_acquire on one
// address: the thread that calls into TBB publishes before it hands work
// over, a task adopts when it starts and publishes when it ends, and the
// caller adopts when the call returns. TBB builds its task objects inside
// the call, after any point we could publish at, so TSan ignores the
// caller's own accesses inside TBB calls (never inside the task bodies it
// runs while it waits). That makes every task see everything any task
// finished before it started, a little more order than TBB promises; races
// between tasks that overlap in time — the ones that corrupt shared state —
// are still reported (docs/security.md, "How this is tested").
// In every other build the wrappers are the TBB calls and nothing more.
//
// Thread safety: as the TBB calls they wrap.

#ifndef MIGSTORE_ENGINE_BASE_PARALLEL_H_
#define MIGSTORE_ENGINE_BASE_PARALLEL_H_

#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <cstddef>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#define MIGSTORE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MIGSTORE_TSAN 1
#endif
#endif

#ifdef MIGSTORE_TSAN
#include <sanitizer/tsan_interface.h>
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace migstore::parallel {

#ifdef MIGSTORE_TSAN
namespace detail {
inline void* SyncAddress() {
  static char sync;
  return &sync;
}
// How many ignores this thread holds: one per TBB call it is inside, and
// one while it is a worker in an Arena (none in the task bodies it runs).
inline thread_local int tbb_depth = 0;
}  // namespace detail
// What this thread did so far happens before what a thread does after a
// later Adopt().
inline void Publish() { __tsan_release(detail::SyncAddress()); }
inline void Adopt() { __tsan_acquire(detail::SyncAddress()); }
inline void IgnoreBegin() { __tsan_ignore_thread_begin(); }
inline void IgnoreEnd() { __tsan_ignore_thread_end(); }
namespace detail {
// A TBB worker ignored outside task bodies (Arena). It may leave an arena
// after the arena's observer is gone, and so never hear of it: the ignore
// then ends with the thread (TSan must not see a thread finish ignoring).
struct WorkerState {
  bool ignoring = false;
  void Begin() {
    if (ignoring) return;
    ignoring = true;
    IgnoreBegin();
    ++tbb_depth;
  }
  void End() {
    if (!ignoring) return;
    ignoring = false;
    --tbb_depth;
    IgnoreEnd();
  }
  ~WorkerState() { End(); }
};
inline thread_local WorkerState worker_state;
}  // namespace detail
#else
inline void Publish() {}
inline void Adopt() {}
inline void IgnoreBegin() {}
inline void IgnoreEnd() {}
#endif

// Held by the thread that calls into TBB for the length of the call: it
// publishes first; inside TBB, where it builds the tasks' objects (after any
// point we could publish at) TSan ignores what it touches; it adopts what
// the tasks did when the call returns.
class TbbCall {
 public:
  TbbCall() {
    Publish();
    IgnoreBegin();
#ifdef MIGSTORE_TSAN
    ++detail::tbb_depth;
#endif
  }
  ~TbbCall() {
#ifdef MIGSTORE_TSAN
    --detail::tbb_depth;
#endif
    IgnoreEnd();
    Adopt();
  }
  TbbCall(const TbbCall&) = delete;
  TbbCall& operator=(const TbbCall&) = delete;
};

// Held for the length of a task's body: adopts at its start, publishes at
// its end, and TSan sees everything in between (also on a thread that runs
// the task while it waits inside a TbbCall).
class TaskScope {
 public:
  TaskScope() {
#ifdef MIGSTORE_TSAN
    depth_ = detail::tbb_depth;
    detail::tbb_depth = 0;
    for (int i = 0; i < depth_; ++i) IgnoreEnd();
#endif
    Adopt();
  }
  ~TaskScope() {
    Publish();
#ifdef MIGSTORE_TSAN
    for (int i = 0; i < depth_; ++i) IgnoreBegin();
    detail::tbb_depth = depth_;
#endif
  }
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  [[maybe_unused]] int depth_ = 0;
};

// `fn` as a task body (a pipeline filter's): it runs inside a TaskScope.
// Arguments and the result pass through.
template <typename Fn>
auto Task(Fn fn) {
  return [fn = std::move(fn)](auto&&... args) -> decltype(auto) {
    TaskScope scope;
    return fn(std::forward<decltype(args)>(args)...);
  };
}

// task_group::run(fn).
template <typename Fn>
void Run(tbb::task_group& group, Fn fn) {
  auto task = Task(std::move(fn));
  TbbCall call;
  group.run(std::move(task));
}

// task_group::wait, then what the group's tasks did is this thread's to see.
inline void Wait(tbb::task_group& group) {
  TbbCall call;
  group.wait();
}

// tbb::parallel_for over [first, last), one index at a time.
template <typename Index, typename Body>
void ParallelFor(Index first, Index last, const Body& body) {
  TbbCall call;
  tbb::parallel_for(first, last, [&body](Index i) {
    TaskScope scope;
    body(i);
  });
}

// tbb::parallel_for over a range (blocked_range), a chunk at a time.
template <typename Range, typename Body>
void ParallelFor(const Range& range, const Body& body) {
  TbbCall call;
  tbb::parallel_for(range, [&body](const Range& r) {
    TaskScope scope;
    body(r);
  });
}

// A tbb::task_arena of `threads` threads, the place every parallel call of
// a capture, restore or verify runs. In a TSan build it also makes its
// worker threads ignored by TSan outside task bodies: TBB splits and builds
// tasks there, in code TSan cannot tie to the scheduler's synchronisation.
class Arena {
 public:
  explicit Arena(int threads) : arena_(threads) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Runs fn() in the arena on this thread, waiting for it; returns what fn
  // returns.
  template <typename Fn>
  auto Execute(const Fn& fn) -> decltype(fn()) {
    TbbCall call;
    return arena_.execute([&fn] {
      TaskScope scope;
      return fn();
    });
  }

 private:
  tbb::task_arena arena_;
#ifdef MIGSTORE_TSAN
  class WorkersIgnored : public tbb::task_scheduler_observer {
   public:
    explicit WorkersIgnored(tbb::task_arena& arena)
        : tbb::task_scheduler_observer(arena) {
      observe(true);
    }
    ~WorkersIgnored() override { observe(false); }
    void on_scheduler_entry(bool worker) override {
      if (worker) detail::worker_state.Begin();
    }
    void on_scheduler_exit(bool worker) override {
      if (worker) detail::worker_state.End();
    }
  };
  WorkersIgnored workers_ignored_{arena_};
#endif
};

// tbb::parallel_pipeline; each filter's body must be a Task().
inline void Pipeline(size_t max_tokens,
                     const tbb::filter<void, void>& filters) {
  TbbCall call;
  tbb::parallel_pipeline(max_tokens, filters);
}

}  // namespace migstore::parallel

#endif  // MIGSTORE_ENGINE_BASE_PARALLEL_H_
