// Where a training step's CPU time goes, by operator: LibTorch's own (legacy) profiler records a
// range for every dispatched operator and autograd node on the profiling thread; this sums each
// name's *self* time (its range less the ranges nested in it), so the rows add up to the time
// profiled without counting a convolution once as aten::conv2d and again as the
// aten::mkldnn_convolution inside it. Used by bench_train --profile (issue 16).
//
// Written here rather than read from Kineto's tables because Debian's LibTorch 1.13 is built
// without Kineto; the legacy event lists are what it offers.
#pragma once

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace syncbn::bench {

class OpProfile {
 public:
  struct Row {
    std::string name;
    double selfMs = 0;  // summed over the profiled steps
    long long calls = 0;
  };

  void start() {
    namespace profiler = torch::autograd::profiler;
    profiler::enableProfilerLegacy(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    running_ = true;
  }

  void stop() {
    if (!running_) return;
    running_ = false;
    accumulate(torch::autograd::profiler::disableProfilerLegacy());
  }

  ~OpProfile() {
    if (running_) torch::autograd::profiler::disableProfilerLegacy();
  }

  std::vector<Row> rows() const {
    std::vector<Row> out;
    for (const auto& [name, row] : byName_)
      out.push_back(row);
    std::sort(out.begin(), out.end(),
              [](const Row& a, const Row& b) { return a.selfMs > b.selfMs; });
    return out;
  }

  double totalMs() const {
    double total = 0;
    for (const auto& [name, row] : byName_)
      total += row.selfMs;
    return total;
  }

  // A Markdown table of the `top` costliest operators, per step, and the rest in one row.
  std::string table(std::size_t top, int steps) const {
    const double total = totalMs();
    const double perStep = steps > 0 ? 1.0 / steps : 1.0;
    std::string out =
        "| operator (self time) | ms per step | share % | calls per step |\n|---|---|---|---|\n";
    char line[512];
    double rest = 0;
    long long restCalls = 0;
    const std::vector<Row> all = rows();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i >= top) {
        rest += all[i].selfMs;
        restCalls += all[i].calls;
        continue;
      }
      std::snprintf(line, sizeof line, "| %s | %.1f | %.1f | %.0f |\n", all[i].name.c_str(),
                    all[i].selfMs * perStep, total > 0 ? 100 * all[i].selfMs / total : 0.0,
                    static_cast<double>(all[i].calls) * perStep);
      out += line;
    }
    if (all.size() > top) {
      std::snprintf(line, sizeof line, "| %zu others | %.1f | %.1f | %.0f |\n", all.size() - top,
                    rest * perStep, total > 0 ? 100 * rest / total : 0.0,
                    static_cast<double>(restCalls) * perStep);
      out += line;
    }
    std::snprintf(line, sizeof line, "| all | %.1f | 100.0 | |\n", total * perStep);
    return out + line;
  }

 private:
  struct Open {
    std::string name;
    double startUs;
    double childUs = 0;
  };

  void accumulate(const torch::autograd::profiler::thread_event_lists& lists) {
    using torch::autograd::profiler::EventKind;
    for (const auto& events : lists) {
      std::vector<Open> stack;
      for (const auto& event : events) {
        if (event.kind() == EventKind::PushRange) {
          stack.push_back({event.name(), event.cpuUs()});
        } else if (event.kind() == EventKind::PopRange && !stack.empty()) {
          const Open open = stack.back();
          stack.pop_back();
          const double elapsedUs = event.cpuUs() - open.startUs;
          Row& row = byName_[open.name];
          row.name = open.name;
          row.selfMs += (elapsedUs - open.childUs) / 1000.0;
          ++row.calls;
          if (!stack.empty()) stack.back().childUs += elapsedUs;
        }
      }
    }
  }

  bool running_ = false;
  std::map<std::string, Row> byName_;
};

}  // namespace syncbn::bench
