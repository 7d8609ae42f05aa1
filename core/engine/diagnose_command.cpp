#include "engine/diagnose_command.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/bn_diagnosis.h"
#include "common/protocol.h"

namespace syncbn::engine {

int diagnoseRun(const CommandContext& ctx, const std::string& runDirectory, bool json) {
  namespace fs = std::filesystem;
  fs::path events = runDirectory;
  if (fs::is_directory(events)) events /= "events.jsonl";
  std::error_code error;
  if (!fs::is_regular_file(events, error)) {
    ctx.err << "error: " << events.string()
            << (fs::exists(events, error) ? ": not a regular file"
                                          : ": no such file; give a run directory (it holds "
                                            "events.jsonl) or the events file itself")
            << "\n";
    return kExitUsage;
  }
  std::ifstream in(events, std::ios::binary);
  if (!in) {
    ctx.err << "error: " << events.string() << ": cannot be read\n";
    return kExitUsage;
  }
  diagnosis::RunDiagnosis run;
  std::string line;
  long long number = 0, skipped = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line.size() > protocol::kMaxLineBytes) {
      ++skipped;
      ctx.err << events.string() << ":" << number << ": line longer than "
              << protocol::kMaxLineBytes << " bytes; skipped\n";
      continue;
    }
    protocol::DecodeResult decoded = protocol::decode(line);
    if (!decoded.ok()) {
      ++skipped;
      // A last line cut off mid-write is expected of a live record.
      if (!in.eof())
        ctx.err << events.string() << ":" << number << ": " << decoded.error().reason
                << "; skipped\n";
      continue;
    }
    run.add(decoded.value());
  }
  const diagnosis::Verdict verdict = run.verdict();
  if (json)
    ctx.out << diagnosis::toJson(verdict) << "\n";
  else
    ctx.out << diagnosis::format(verdict);
  return verdict.problem ? kExitInvalid : kExitOk;
}

}  // namespace syncbn::engine
