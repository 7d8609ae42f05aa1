#include "common/data_yaml_writer.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <stdexcept>
#include <system_error>

#include "common/atomic_file.h"

namespace syncbn {
namespace fs = std::filesystem;
namespace {

fs::path normalized(const fs::path& path) {
  return path.lexically_normal();
}

// The deepest folder holding every path: their common leading components.
fs::path commonFolder(const std::vector<fs::path>& paths) {
  fs::path common = normalized(paths.front());
  for (const fs::path& raw : paths) {
    const fs::path path = normalized(raw);
    fs::path prefix;
    auto a = common.begin();
    auto b = path.begin();
    for (; a != common.end() && b != path.end() && *a == *b; ++a, ++b)
      prefix /= *a;
    common = prefix;
  }
  return common;
}

std::string relativeTo(const fs::path& path, const fs::path& root) {
  const fs::path relative = normalized(path).lexically_relative(root);
  return relative.empty() || relative == "." ? std::string(".") : relative.generic_string();
}

}  // namespace

std::vector<std::string> checkNewDataset(const NewDataset& dataset) {
  std::vector<std::string> problems;
  const auto checkFolder = [&](const fs::path& folder, const std::string& split, bool required) {
    if (folder.empty()) {
      if (required) problems.push_back("choose the " + split + " images' folder");
      return;
    }
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
      problems.push_back("the " + split + " folder " + folder.string() + " does not exist");
  };
  checkFolder(dataset.train, "train", true);
  checkFolder(dataset.val, "val", true);
  checkFolder(dataset.test, "test", false);
  if (dataset.names.empty()) problems.push_back("type at least one class name");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < dataset.names.size(); ++i) {
    const std::string& name = dataset.names[i];
    const std::string which = "class " + std::to_string(i);
    if (name.find_first_not_of(" \t") == std::string::npos)
      problems.push_back(which + " has an empty name");
    else if (name.find_first_of("\r\n") != std::string::npos)
      problems.push_back(which + "'s name has a line break");
    else if (!seen.insert(name).second)
      problems.push_back(which + " repeats the name '" + name + "'");
  }
  return problems;
}

std::string dataYamlText(const NewDataset& dataset, const fs::path& yamlFile) {
  std::vector<fs::path> folders{dataset.train, dataset.val};
  if (!dataset.test.empty()) folders.push_back(dataset.test);
  const fs::path root = commonFolder(folders);

  // yaml-cpp's emitter quotes whatever needs it (a class called "yes", "1: a" or "#1").
  YAML::Emitter out;
  out << YAML::Comment("Ultralytics data.yaml written by SyncBN Studio for " +
                       yamlFile.filename().string());
  out << YAML::BeginMap;
  out << YAML::Key << "path" << YAML::Value << root.generic_string();
  out << YAML::Key << "train" << YAML::Value << relativeTo(dataset.train, root);
  out << YAML::Key << "val" << YAML::Value << relativeTo(dataset.val, root);
  if (!dataset.test.empty())
    out << YAML::Key << "test" << YAML::Value << relativeTo(dataset.test, root);
  out << YAML::Key << "names" << YAML::Value << YAML::BeginMap;
  for (std::size_t i = 0; i < dataset.names.size(); ++i)
    out << YAML::Key << i << YAML::Value << YAML::DoubleQuoted << dataset.names[i];
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void writeDataYaml(const NewDataset& dataset, const fs::path& yamlFile) {
  if (const auto problems = checkNewDataset(dataset); !problems.empty())
    throw std::invalid_argument(problems.front());
  std::error_code ec;
  if (!yamlFile.parent_path().empty()) fs::create_directories(yamlFile.parent_path(), ec);
  if (ec) throw std::runtime_error("cannot write " + yamlFile.string() + ": " + ec.message());
  writeFileAtomically(yamlFile, dataYamlText(dataset, yamlFile));  // names the file on failure
}

}  // namespace syncbn
