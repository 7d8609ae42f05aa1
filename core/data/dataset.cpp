#include "data/dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>

#include "common/regular_file.h"
#include "common/yaml_error.h"

namespace syncbn::data {
namespace fs = std::filesystem;
namespace {

std::string describe(const fs::path& file, int line, const std::string& key,
                     const std::string& reason) {
  std::string text = file.string();
  if (line > 0) text += ":" + std::to_string(line);
  if (!key.empty()) text += ": " + key;
  return text + ": " + reason;
}

int lineOf(const YAML::Node& node) {
  return node.Mark().is_null() ? 0 : node.Mark().line + 1;
}

// lexically_normal() keeps a trailing separator ("a/b/.." -> "a/"); paths compare without it.
fs::path normalised(const fs::path& path) {
  fs::path result = path.lexically_normal();
  if (!result.has_filename() && result.has_relative_path()) result = result.parent_path();
  return result;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trimmed(std::string_view text) {
  const auto isSpace = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && isSpace(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back()))
    text.remove_suffix(1);
  return std::string(text);
}

// Reads data.yaml's keys with the file name and line in every error.
class DataYamlReader {
 public:
  explicit DataYamlReader(fs::path shownFile) : file_(std::move(shownFile)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& key,
                         const std::string& reason) const {
    throw DatasetError(file_, node ? lineOf(node) : 0, key, reason);
  }

  YAML::Node load() const {
    std::error_code error;
    if (!fs::exists(file_, error)) throw DatasetError(file_, 0, "", "file does not exist");
    std::string text;
    try {
      text = readRegularFile(file_, kMaxTextFileBytes);
    } catch (const FileReadError& e) {
      throw DatasetError(file_, 0, "", e.what());
    }
    try {
      YAML::Node root = YAML::Load(text);
      if (!root.IsMap()) throw DatasetError(file_, lineOf(root), "", "expected a mapping of keys");
      return root;
    } catch (const YAML::ParserException& e) {
      throw DatasetError(file_, e.mark.is_null() ? 0 : e.mark.line + 1, "",
                         "invalid YAML: " + yamlErrorText(e));
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, key, "expected a string");
    return node.Scalar();
  }

  std::vector<std::string> names(const YAML::Node& root) const {
    const YAML::Node names = root["names"];
    const YAML::Node nc = root["nc"];
    std::vector<std::string> result;
    if (names && names.IsSequence()) {
      for (std::size_t i = 0; i < names.size(); ++i)
        result.push_back(scalar(names[i], "names[" + std::to_string(i) + "]"));
    } else if (names && names.IsMap()) {
      result = namesFromMap(names);
    } else if (names && !names.IsNull()) {
      fail(names, "names", "expected a list of class names or a map from class id to name");
    } else if (nc) {
      // Ultralytics names the classes itself when only their number is given.
      for (int i = 0; i < count(nc); ++i)
        result.push_back("class_" + std::to_string(i));
    } else {
      throw DatasetError(file_, 0, "names", "missing key (a list of class names is required)");
    }
    if (result.empty()) fail(names, "names", "no classes");
    if (nc && count(nc) != static_cast<int>(result.size()))
      fail(
          nc, "nc",
          "nc: " + nc.Scalar() + " does not match the " + std::to_string(result.size()) + " names");
    return result;
  }

  std::optional<SplitSources> split(const YAML::Node& root, const std::string& key,
                                    const fs::path& dataRoot) const {
    const YAML::Node primary = root[key];
    // Ultralytics accepts `validation` for `val`.
    const bool alias = !primary && key == "val" && root["validation"];
    const YAML::Node node = alias ? root["validation"] : primary;
    const std::string shownKey = alias ? "validation" : key;
    if (!node || node.IsNull() || (node.IsScalar() && node.Scalar().empty())) {
      if (key == "test") return std::nullopt;
      if (node) fail(node, shownKey, "empty (a folder of images, a .txt list or a YAML list)");
      throw DatasetError(file_, 0, key, "missing key (" + key + " images are required)");
    }
    SplitSources split{.split = key, .sources = {}, .line = lineOf(node)};
    std::vector<std::pair<std::string, YAML::Node>> written;
    if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i)
        written.emplace_back(scalar(node[i], shownKey + "[" + std::to_string(i) + "]"), node[i]);
      if (written.empty()) fail(node, shownKey, "empty list");
    } else {
      written.emplace_back(scalar(node, shownKey), node);
    }
    for (const auto& [text, entry] : written) {
      fs::path resolved = normalised(dataRoot / text);
      std::error_code error;
      // Ultralytics retries a lone string "../x" as "x": YOLOv5-era files point one level up.
      if (!node.IsSequence() && !fs::exists(resolved, error) && text.starts_with("../")) {
        const fs::path retried = normalised(dataRoot / text.substr(3));
        if (fs::exists(retried, error)) resolved = retried;
      }
      if (!fs::exists(resolved, error))
        fail(entry, shownKey,
             "path '" + text + "' does not exist (resolved to " + resolved.string() + ")");
      split.sources.push_back(resolved);
    }
    return split;
  }

 private:
  int count(const YAML::Node& nc) const {
    try {
      const int n = nc.as<int>();
      if (n >= 1) return n;
    } catch (const YAML::Exception&) {
    }
    fail(nc, "nc", "expected a positive integer, got '" + (nc.IsScalar() ? nc.Scalar() : "") + "'");
  }

  std::vector<std::string> namesFromMap(const YAML::Node& names) const {
    std::map<int, std::string> byId;
    for (const auto& item : names) {
      int id = -1;
      try {
        id = item.first.as<int>();
      } catch (const YAML::Exception&) {
      }
      if (id < 0)
        fail(item.first, "names", "class id '" + item.first.Scalar() + "' is not an integer >= 0");
      if (!byId.emplace(id, scalar(item.second, "names." + std::to_string(id))).second)
        fail(item.first, "names", "class id " + std::to_string(id) + " given twice");
    }
    std::vector<std::string> result;
    for (const auto& [id, name] : byId) {
      if (id != static_cast<int>(result.size()))
        fail(names, "names",
             std::to_string(byId.size()) + " classes need ids 0-" +
                 std::to_string(byId.size() - 1) + ", but id " + std::to_string(id) + " is given");
      result.push_back(name);
    }
    return result;
  }

  fs::path file_;
};

void addListedImages(const fs::path& list, const fs::path& root, const DatasetDescription& dataset,
                     const SplitSources& split, std::vector<fs::path>& images) {
  std::string contents;
  try {
    contents = readRegularFile(list, kMaxImageListBytes);
  } catch (const FileReadError& e) {
    throw DatasetError(dataset.yamlFile, split.line, split.split,
                       "cannot read image list '" + list.string() + "': " + e.what());
  }
  std::istringstream in(contents);
  for (std::string raw; std::getline(in, raw);) {
    const std::string line = trimmed(raw);
    if (line.empty()) continue;
    fs::path image;
    if (line.starts_with("./")) {
      image = list.parent_path() / line.substr(2);
    } else {
      image = root / line;  // an absolute line replaces root
    }
    image = image.lexically_normal();
    if (isImageFile(image)) images.push_back(std::move(image));
  }
}

// Symbolic links to folders are followed, as glob follows them, but each real folder is searched
// once: a link back up the tree (a loop) or a second link to the same folder would otherwise list
// its images again and again.
void addDirectoryImages(const fs::path& dir, const DatasetDescription& dataset,
                        const SplitSources& split, std::vector<fs::path>& images,
                        std::set<fs::path>& searched, std::vector<ListingNote>* notes) {
  std::error_code error;
  const fs::path realDir = fs::canonical(dir, error);
  if (!error && !searched.insert(realDir).second) return;  // a source given twice
  const auto options = fs::directory_options::follow_directory_symlink |
                       fs::directory_options::skip_permission_denied;
  fs::recursive_directory_iterator it(dir, options, error);
  if (error)
    throw DatasetError(dataset.yamlFile, split.line, split.split,
                       "cannot read folder '" + dir.string() + "': " + error.message());
  for (const fs::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) break;
    const fs::path& path = it->path();
    if (path.filename().string().starts_with(".")) {  // glob's "**/*.*" skips hidden entries
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(error)) {
      std::error_code realError;
      const fs::path real = fs::canonical(path, realError);
      if (realError) {  // a link loop the kernel refuses to resolve (ELOOP), or a dangling one
        it.disable_recursion_pending();
        if (notes) notes->push_back({path, "not searched: " + realError.message()});
      } else if (!searched.insert(real).second) {
        it.disable_recursion_pending();
        if (notes)
          notes->push_back({path, "symbolic link to " + real.string() +
                                      ", a folder already searched: not followed again"});
      }
      continue;
    }
    // Anything else with an image's name is listed, a FIFO or a device too: verification then
    // reports it by name instead of the listing dropping it unseen.
    if (isImageFile(path)) images.push_back(path.lexically_normal());
  }
  if (error)
    throw DatasetError(dataset.yamlFile, split.line, split.split,
                       "cannot read folder '" + dir.string() + "': " + error.message());
}

}  // namespace

DatasetError::DatasetError(fs::path file, int line, std::string key, const std::string& reason)
    : std::runtime_error(describe(file, line, key, reason)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

const SplitSources* DatasetDescription::split(std::string_view name) const {
  for (const auto& s : splits)
    if (s.split == name) return &s;
  return nullptr;
}

DatasetDescription loadDataYaml(const fs::path& yamlFile) {
  const DataYamlReader reader(yamlFile);
  const YAML::Node root = reader.load();

  DatasetDescription dataset;
  dataset.yamlFile = normalised(fs::absolute(yamlFile));
  const fs::path yamlDir = dataset.yamlFile.parent_path();
  dataset.root = yamlDir;
  if (const YAML::Node path = root["path"]; path && !path.IsNull()) {
    const std::string text = reader.scalar(path, "path");
    if (!text.empty()) dataset.root = normalised(yamlDir / text);
    std::error_code error;
    if (!fs::is_directory(dataset.root, error))
      reader.fail(path, "path",
                  "dataset root '" + text + "' is not a folder (resolved to " +
                      dataset.root.string() + ")");
  }
  dataset.names = reader.names(root);
  for (const std::string key : {"train", "val", "test"})
    if (auto split = reader.split(root, key, dataset.root))
      dataset.splits.push_back(std::move(*split));
  return dataset;
}

bool isImageFile(const fs::path& path) {
  static const std::set<std::string> kFormats{"bmp", "dng", "jpeg", "jpg",  "mpo",
                                              "png", "tif", "tiff", "webp", "pfm"};
  const std::string suffix = path.extension().string();
  return suffix.size() > 1 && kFormats.contains(lowercase(suffix.substr(1)));
}

std::vector<fs::path> listImages(const DatasetDescription& dataset, const SplitSources& split,
                                 std::vector<ListingNote>* notes) {
  std::vector<fs::path> images;
  std::set<fs::path> searched;  // real folders already listed
  for (const auto& source : split.sources) {
    std::error_code error;
    if (fs::is_directory(source, error)) {
      addDirectoryImages(source, dataset, split, images, searched, notes);
    } else if (isImageFile(source)) {
      images.push_back(source);
    } else if (fs::exists(source, error)) {
      addListedImages(source, dataset.root, dataset, split, images);
    } else {
      throw DatasetError(dataset.yamlFile, split.line, split.split,
                         "path '" + source.string() + "' does not exist");
    }
  }
  // Ultralytics sorts the combined list, so the order does not depend on the file system.
  std::sort(images.begin(), images.end());
  if (images.empty()) {
    std::string where;
    for (const auto& source : split.sources)
      where += (where.empty() ? "'" : ", '") + source.string() + "'";
    throw DatasetError(dataset.yamlFile, split.line, split.split, "no images found in " + where);
  }
  return images;
}

fs::path labelPathFor(const fs::path& image) {
  std::string text = image.generic_string();
  constexpr std::string_view kImages = "/images/";
  if (const auto at = text.rfind(kImages); at != std::string::npos)
    text.replace(at, kImages.size(), "/labels/");
  return fs::path(text).replace_extension(".txt");
}

}  // namespace syncbn::data
