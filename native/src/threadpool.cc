// A small persistent pool of std::threads. parallel_run(n, fn, ctx) runs fn(ctx, tid, n) for every
// tid in [0, n): the caller is tid 0, workers 1..n-1. Jobs are serialised (one at a time), which
// also keeps Node worker_threads that share this library from interleaving.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels.h"

namespace fsk {
namespace {

class Pool {
 public:
  void run(int n, void (*fn)(void*, int, int), void* ctx) {
    std::lock_guard<std::mutex> job_lock(job_mu_);
    grow(n - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = fn;
      ctx_ = ctx;
      n_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(ctx, 0, n);
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  void grow(int workers) {
    while (static_cast<int>(count_) < workers) {
      const int index = static_cast<int>(count_) + 1;
      // The new worker must treat the job about to be published as new, whenever it starts running.
      uint64_t seen;
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen = generation_;
      }
      // Detached: the pool lives for the whole process and exits with it.
      std::thread([this, index, seen] { loop(index, seen); }).detach();
      ++count_;
    }
  }

  void loop(int index, uint64_t seen) {
    for (;;) {
      void (*fn)(void*, int, int);
      void* ctx;
      int n;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        fn = fn_;
        ctx = ctx_;
        n = n_;
      }
      if (index < n) {
        fn(ctx, index, n);
        std::lock_guard<std::mutex> lock(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
      }
    }
  }

  std::mutex job_mu_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  uint64_t generation_ = 0;
  void (*fn_)(void*, int, int) = nullptr;
  void* ctx_ = nullptr;
  int n_ = 0;
  int pending_ = 0;
  size_t count_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached workers may still be waiting at exit
  return *p;
}

}  // namespace

void parallel_run(int n, void (*fn)(void*, int, int), void* ctx) {
  if (n <= 1) {
    fn(ctx, 0, 1);
    return;
  }
  pool().run(n, fn, ctx);
}

}  // namespace fsk
