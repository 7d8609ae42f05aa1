// Runs W ranks as threads of this process, each with its own Gloo process group over a shared
// in-process store: the real collectives, without spawning processes.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "dist/process_group.h"

namespace syncbn::testing {

inline void runRanks(int worldSize,
                     const std::function<void(int rank, std::shared_ptr<dist::ProcessGroup>)>& body,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const dist::Store store = dist::Store::inProcess();
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(worldSize));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < worldSize; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        body(rank,
             dist::ProcessGroup::create(store, rank, worldSize, Backend::Gloo, false, timeout));
      } catch (...) {
        errors[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

}  // namespace syncbn::testing
