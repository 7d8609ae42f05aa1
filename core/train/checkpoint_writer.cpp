#include "train/checkpoint_writer.h"

#include <algorithm>
#include <chrono>
#include <system_error>
#include <utility>

namespace syncbn::train {

CheckpointWriter::CheckpointWriter() : thread_([this] { run(); }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void CheckpointWriter::submit(CheckpointSnapshot snapshot, Written what) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this, &what] {
      return std::none_of(queue_.begin(), queue_.end(),
                          [&what](const Job& job) { return job.what.path == what.path; });
    });
    queue_.push_back(Job{std::move(snapshot), std::move(what)});
  }
  changed_.notify_all();
}

std::vector<CheckpointWriter::Written> CheckpointWriter::takeWritten() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  return std::exchange(written_, {});
}

void CheckpointWriter::waitIdle() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void CheckpointWriter::run() {
  using Clock = std::chrono::steady_clock;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    changed_.notify_all();  // a submit may wait for this job to leave the queue

    const auto start = Clock::now();
    std::exception_ptr failure;
    try {
      writeCheckpoint(job.what.path, job.snapshot);
      std::error_code error;
      job.what.bytes = std::filesystem::file_size(job.what.path, error);
    } catch (...) {
      failure = std::current_exception();
    }
    job.what.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // The snapshot's copies are freed before the lock is taken again.
    { const CheckpointSnapshot done = std::move(job.snapshot); }

    lock.lock();
    busy_ = false;
    if (failure) {
      if (!failure_) failure_ = failure;
    } else {
      written_.push_back(std::move(job.what));
    }
    changed_.notify_all();
  }
}

}  // namespace syncbn::train
