// Property-based fuzzing of every parser that reads user or peer input: the configuration YAML
// and key=value overrides, the model YAML, the data.yaml, label files, protocol lines (both
// directions: the GUI decodes the engine's, the engine the GUI's) and image headers.
//
// A seeded mutator (bit flips, boundary bytes, dictionary tokens, cuts, repeats, splices) turns
// the corpus in tests/fuzz/corpus/ into thousands of inputs. The properties: no crash, no
// exception but the parser's documented error, and every error names its source. The seed and
// the count are fixed so CI is repeatable; SYNCBN_FUZZ_SEED and SYNCBN_FUZZ_ITERATIONS widen a
// local run. A failing input is printed escaped, to be added to the corpus.
//
// Written as a property harness rather than a libFuzzer target: the build is GCC's, Debian's
// libFuzzer needs clang for the whole link, and the properties are the same.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "common/config_yaml.h"
#include "common/protocol.h"
#include "data/dataset.h"
#include "data/image_header.h"
#include "data/label_file.h"
#include "model/model_definition.h"
#include "train/python_pickle.h"

namespace syncbn {
namespace {

namespace fs = std::filesystem;

std::uint64_t environmentNumber(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text ? std::strtoull(text, nullptr, 10) : fallback;
}

const std::uint64_t kSeed = environmentNumber("SYNCBN_FUZZ_SEED", 20261202);
const std::uint64_t kIterations = environmentNumber("SYNCBN_FUZZ_ITERATIONS", 1500);

std::vector<std::string> corpus(const std::string& kind) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(SYNCBN_FUZZ_CORPUS) / kind))
    files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    texts.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_FALSE(texts.empty()) << kind;
  return texts;
}

// Tokens that parsers of YAML, JSON and numbers trip on.
const std::vector<std::string> kDictionary{"nan",
                                           ".nan",
                                           ".inf",
                                           "-.inf",
                                           "1e309",
                                           "-1",
                                           "0",
                                           "99999999999999999999",
                                           "2147483648",
                                           "-9223372036854775809",
                                           "[",
                                           "]",
                                           "{",
                                           "}",
                                           ": ",
                                           "- ",
                                           "&a ",
                                           "*a",
                                           "!!binary ",
                                           "~",
                                           "null",
                                           "None",
                                           "True",
                                           "\"\\u0000\"",
                                           "\"\\ud800\"",
                                           "'",
                                           "\"",
                                           "#",
                                           "\t",
                                           "\r\n",
                                           "\xff\xfe",
                                           "\xc3\x28",
                                           std::string(1, '\0'),
                                           "<<: *a",
                                           "? ",
                                           "---\n",
                                           "...\n",
                                           ",",
                                           "nc",
                                           "Detect",
                                           "Conv",
                                           "{\"v\":3,\"type\":",
                                           "\"iteration\":",
                                           "1e-400",
                                           "0x7f",
                                           "[[[[[[[[[[",
                                           "]]]]]]]]]]"};

class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : random_(seed) {}

  std::string mutate(std::string text, const std::vector<std::string>& others) {
    const int rounds = 1 + static_cast<int>(below(4));
    for (int r = 0; r < rounds; ++r) {
      switch (below(8)) {
        case 0:  // flip a bit
          if (!text.empty()) text[below(text.size())] ^= static_cast<char>(1 << below(8));
          break;
        case 1: {  // a boundary byte
          static const char kBytes[] = {'\0', '\n', '\x7f', '\xff', ':', '-', '[', '{', '"', ' '};
          if (!text.empty()) text[below(text.size())] = kBytes[below(sizeof kBytes)];
          break;
        }
        case 2:  // a dictionary token
        case 3:
          text.insert(below(text.size() + 1), kDictionary[below(kDictionary.size())]);
          break;
        case 4: {  // cut a range
          if (text.empty()) break;
          const std::size_t at = below(text.size());
          text.erase(at, below(std::min<std::size_t>(text.size() - at, 64) + 1));
          break;
        }
        case 5: {  // repeat a range
          if (text.empty()) break;
          const std::size_t at = below(text.size());
          const std::string piece = text.substr(at, below(32) + 1);
          for (std::size_t n = below(8) + 1; n > 0 && text.size() < (1 << 16); --n)
            text.insert(at, piece);
          break;
        }
        case 6: {  // splice in part of another input
          const std::string& other = others[below(others.size())];
          if (other.empty()) break;
          const std::size_t from = below(other.size());
          text.insert(below(text.size() + 1), other.substr(from, below(128) + 1));
          break;
        }
        default: {  // a number replaced by an extreme one
          const std::size_t digit = text.find_first_of("0123456789", below(text.size() + 1));
          if (digit != std::string::npos)
            text.replace(digit, 1, below(2) ? "99999999999" : "-0.0000001");
          break;
        }
      }
    }
    return text;
  }

 private:
  std::size_t below(std::size_t n) { return n == 0 ? 0 : random_() % n; }
  std::mt19937_64 random_;
};

std::string escaped(const std::string& input) {
  std::string out;
  for (const unsigned char c : input) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f || c == '\\') {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Runs `property` on the corpus and kIterations mutants; a property reports its failure as text.
void fuzz(const std::string& kind, std::uint64_t salt,
          const std::function<std::string(const std::string&)>& property) {
  const std::vector<std::string> seeds = corpus(kind);
  Mutator mutator(kSeed ^ salt);
  int failures = 0;
  for (std::uint64_t i = 0; i < kIterations + seeds.size() && failures < 5; ++i) {
    const std::string input =
        i < seeds.size() ? seeds[i] : mutator.mutate(seeds[i % seeds.size()], seeds);
    std::string failure;
    try {
      failure = property(input);
    } catch (const std::exception& e) {
      failure = std::string("undocumented exception: ") + e.what();
    } catch (...) {
      failure = "a non-standard exception";
    }
    if (!failure.empty()) {
      ++failures;
      ADD_FAILURE() << kind << " input " << i << " (seed " << kSeed << "): " << failure
                    << "\n  input: \"" << escaped(input) << "\"";
    }
  }
}

TEST(Fuzz, ConfigYamlReportsEveryProblemAsADiagnosticOfItsFile) {
  fuzz("config", 1, [](const std::string& input) -> std::string {
    LoadedConfig loaded = parseConfigYaml(input, "fuzz.yaml");
    for (const Diagnostic& d : loaded.diagnostics) {
      if (d.message.empty()) return "a diagnostic without a message";
      if (d.source != "fuzz.yaml" && !d.source.empty()) return "a diagnostic of " + d.source;
    }
    return "";
  });
}

TEST(Fuzz, OverridesReportEveryProblemAsADiagnosticOfTheCommandLine) {
  fuzz("config", 2, [](const std::string& input) -> std::string {
    // Each line of the mutant as one key=value argument.
    std::vector<std::string> arguments;
    std::size_t start = 0;
    while (start <= input.size() && arguments.size() < 64) {
      const std::size_t end = std::min(input.find('\n', start), input.size());
      std::string line = input.substr(start, end - start);
      if (const auto colon = line.find(": "); colon != std::string::npos) line[colon] = '=';
      arguments.push_back(line);
      start = end + 1;
    }
    LoadedConfig loaded;
    applyOverrides(loaded, arguments);
    for (const Diagnostic& d : loaded.diagnostics)
      if (d.source != "command line") return "a diagnostic of '" + d.source + "'";
    return "";
  });
}

TEST(Fuzz, ModelYamlRefusesOnlyWithAnErrorNamingTheFile) {
  fuzz("model", 3, [](const std::string& input) -> std::string {
    try {
      const model::ModelDefinition definition =
          model::parseModelDefinition(input, "fuzz.yaml", "fuzz");
      // Accepted: within the limits, so its size is computable without overflow.
      const model::ModelFootprint footprint = model::estimateFootprint(definition, 640);
      if (footprint.parameters <= 0) return "an accepted model without parameters";
    } catch (const model::ModelDefinitionError& e) {
      if (std::string(e.what()).rfind("fuzz.yaml", 0) != 0)
        return std::string("an error that does not name the file: ") + e.what();
    }
    return "";
  });
}

TEST(Fuzz, DataYamlRefusesOnlyWithADatasetErrorNamingTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("syncbn_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(dir / "images/train");
  fs::create_directories(dir / "images/val");
  const fs::path yaml = dir / "data.yaml";
  fuzz("data_yaml", 4, [&](const std::string& input) -> std::string {
    std::ofstream(yaml, std::ios::binary | std::ios::trunc) << input;
    try {
      data::loadDataYaml(yaml);
    } catch (const data::DatasetError& e) {
      if (std::string(e.what()).rfind(yaml.string(), 0) != 0)
        return std::string("an error that does not name the file: ") + e.what();
    }
    return "";
  });
  fs::remove_all(dir);
}

TEST(Fuzz, LabelFilesAreParsedOrRefusedWithALine) {
  fuzz("labels", 5, [](const std::string& input) -> std::string {
    const data::ParsedLabels parsed = data::parseLabels(input, 3);
    if (!parsed.ok()) {
      if (parsed.errorLine < 1) return "an error without its line: " + parsed.error;
      if (!parsed.rows.empty()) return "rows kept from a refused file";
    }
    for (const data::LabelRow& row : parsed.rows)
      if (row.cls < 0 || row.cls >= 3 || !(row.w >= 0 && row.w <= 1.001f))
        return "a row outside its range was accepted";
    return "";
  });
}

TEST(Fuzz, ProtocolLinesDecodeOrAreRefusedWithAReasonAndReencodeExactly) {
  fuzz("protocol", 6, [](const std::string& input) -> std::string {
    const protocol::DecodeResult decoded = protocol::decode(input);
    if (!decoded.ok()) return decoded.error().reason.empty() ? "a refusal without a reason" : "";
    // What decodes re-encodes to a line that decodes to the same message.
    const std::string line = protocol::encode(decoded.value());
    const protocol::DecodeResult again = protocol::decode(line);
    if (!again.ok()) return "its own encoding does not decode: " + again.error().reason;
    if (!(again.value() == decoded.value())) return "re-encoding changed the message";
    return "";
  });
}

TEST(Fuzz, ImageHeadersStateASizeOrNoneWithoutReadingPastTheBytes) {
  // The corpus: the start of each kind of header, as the readers expect them.
  fuzz("protocol", 7, [](const std::string& input) -> std::string {
    for (const std::string& prefix :
         {std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16), std::string("\xFF\xD8\xFF", 3),
          std::string("BM"), std::string("RIFF\0\0\0\0WEBPVP8", 15), std::string("II*\0", 4),
          std::string("MM\0*", 4), std::string("P6 ")}) {
      const std::string bytes = prefix + input.substr(0, 256);
      if (const auto size = data::readImageSize(bytes))
        if (size->width < 0 || size->height < 0) return "a negative size";
    }
    return "";
  });
}

// Walks a value as the checkpoint reader does (dict lookups, class names, nested items), with a
// budget: a memo can make a value contain itself.
void walk(const train::pickle::Value& value, int depth, int& budget) {
  if (depth > 64 || --budget < 0) return;
  (void)value.className();
  (void)value.get("_parameters");
  for (const auto* item : value.items)
    walk(*item, depth + 1, budget);
  for (const auto& [key, item] : value.entries) {
    walk(*key, depth + 1, budget);
    walk(*item, depth + 1, budget);
  }
  for (const auto* part : {value.args, value.state})
    if (part != nullptr) walk(*part, depth + 1, budget);
}

TEST(Fuzz, PicklesReadOrAreRefusedAtAnOffsetInsideTheBytes) {
  // Python's own pickles (protocols 0, 2, 4, 5) and the data.pkl of an Ultralytics checkpoint.
  fuzz("pickle", 8, [](const std::string& input) -> std::string {
    try {
      const train::pickle::Document document = train::pickle::readPickle(input);
      if (document.valueCount() > input.size() + 1) return "more values than the pickle has bytes";
      (void)train::pickle::describe(document.root());
      int budget = 200000;
      walk(document.root(), 0, budget);
    } catch (const train::pickle::PickleError& e) {
      if (e.offset() > input.size()) return "an offset past the end: " + std::string(e.what());
    }
    return "";
  });
}

}  // namespace
}  // namespace syncbn
