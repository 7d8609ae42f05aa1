// A new Ultralytics data.yaml from the studio's "New Dataset" form: the image folders of each
// split and the class names. Torch- and Qt-free so that the GUI writes exactly what the engine's
// loader (core/data/dataset.h) reads; tests/data round-trips the two.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace syncbn {

struct NewDataset {
  std::filesystem::path train;  // a folder of images (searched recursively), absolute
  std::filesystem::path val;    // may equal train (Ultralytics allows it)
  std::filesystem::path test;   // optional; empty: no test split
  std::vector<std::string> names;
};

// What is wrong with the form, one sentence per problem; empty when it can be written. Checks
// that the folders exist, the names are non-empty, unique and free of line breaks.
std::vector<std::string> checkNewDataset(const NewDataset& dataset);

// The data.yaml text for a file at `yamlFile`: `path:` is the folders' deepest common folder, the
// splits are relative to it, `names:` maps ids to names (quoted where YAML needs it).
std::string dataYamlText(const NewDataset& dataset, const std::filesystem::path& yamlFile);

// Writes dataYamlText atomically, creating the file's folder if needed. Throws
// std::invalid_argument with checkNewDataset's first problem, std::runtime_error naming the file
// when it cannot be written (the old file stays).
void writeDataYaml(const NewDataset& dataset, const std::filesystem::path& yamlFile);

}  // namespace syncbn
