#include "engine/verdict_reporter.h"

namespace syncbn::engine {
namespace {

// What makes a verdict "the same" as the last one: the findings' rules and severities. The
// numbers move every epoch; repeating the line for each move would drown the console.
std::string gist(const diagnosis::Verdict& verdict) {
  std::string key;
  for (const diagnosis::Finding& f : verdict.findings)
    key += f.rule + ":" + std::string(diagnosis::toString(f.severity)) + ";";
  return key;
}

}  // namespace

VerdictReporter::VerdictReporter(std::vector<train::EventSink*> targets)
    : targets_(std::move(targets)) {}

protocol::Log VerdictReporter::line(const diagnosis::Verdict& verdict, int epoch) {
  return protocol::Log{
      verdict.problem ? "warning" : "info", 0,
      "diagnosis after epoch " + std::to_string(epoch + 1) + ": " + verdict.headline};
}

void VerdictReporter::publish(const protocol::Message& message) {
  diagnosis_.add(message);
  const auto* val = std::get_if<protocol::Val>(&message);
  if (!val) return;
  const diagnosis::Verdict verdict = diagnosis_.verdict();
  if (!verdict.enoughData) return;
  const std::string said = gist(verdict);
  if (said == lastSaid_) return;
  lastSaid_ = said;
  const protocol::Log log = line(verdict, val->epoch);
  for (train::EventSink* target : targets_)
    target->publish(log);
}

}  // namespace syncbn::engine
