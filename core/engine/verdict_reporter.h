// `train` says at the end of an epoch what the BatchNorm diagnosis (common/bn_diagnosis.h) makes
// of the run so far, when that differs from what it said last: a log line on the console, in
// events.jsonl and in the studio's log. Rank 0 only; fed the same events as every other sink.
#pragma once

#include <string>
#include <vector>

#include "common/bn_diagnosis.h"
#include "train/event_sink.h"

namespace syncbn::engine {

class VerdictReporter final : public train::EventSink {
 public:
  // `targets` get the log lines; they must not publish back into this reporter.
  explicit VerdictReporter(std::vector<train::EventSink*> targets);

  // Call with every event, in order: a `val` event ends an epoch and may publish a log line.
  void publish(const protocol::Message& message) override;

  // The log line for `verdict` after `epoch` (0-based): "diagnosis after epoch 2: ...".
  static protocol::Log line(const diagnosis::Verdict& verdict, int epoch);

 private:
  std::vector<train::EventSink*> targets_;
  diagnosis::RunDiagnosis diagnosis_;
  std::string lastSaid_;  // the rules and severities last reported, "" before the first
};

}  // namespace syncbn::engine
