// A detection dataset described by an Ultralytics data.yaml: where each split's images are, the
// class names, and where each image's label file lies.
//
// Path rules (docs: README.md, "Datasets"):
// - `path` is the dataset root. Absent, it is the data.yaml's folder; relative, it is resolved
//   against the data.yaml's folder. (Ultralytics resolves a relative root against its global
//   datasets directory; a file-relative root keeps a dataset movable without a settings file.)
// - `train`/`val`/`test` are resolved against the root; an absolute path stays as it is. A
//   string starting with `../` that does not exist is retried without it, as Ultralytics does.
// - In a `.txt` image list, a line starting with `./` is relative to the list's folder, as in
//   Ultralytics; any other relative line is relative to the root (Ultralytics: the working
//   directory, which makes a list depend on where training was started).
#pragma once

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace syncbn::data {

// A dataset that cannot be used at all: a missing key, a path that does not exist, no image.
// what(): "FILE:LINE: KEY: reason", "FILE: KEY: reason" or "FILE: reason".
class DatasetError : public std::runtime_error {
 public:
  DatasetError(std::filesystem::path file, int line, std::string key, const std::string& reason);

  const std::filesystem::path& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when unknown
  const std::string& key() const { return key_; }

 private:
  std::filesystem::path file_;
  int line_;
  std::string key_;
};

// One of `train`, `val`, `test`: the sources as written, resolved to absolute paths.
struct SplitSources {
  std::string split;
  std::vector<std::filesystem::path> sources;  // directories, .txt image lists or single images
  int line = 0;                                // where the key is in the data.yaml
};

struct DatasetDescription {
  std::filesystem::path yamlFile;    // absolute
  std::filesystem::path root;        // absolute
  std::vector<std::string> names;    // indexed by class id
  std::vector<SplitSources> splits;  // train, val, then test when present

  const SplitSources* split(std::string_view name) const;
};

// Reads and checks a data.yaml; every source path must exist. Throws DatasetError.
DatasetDescription loadDataYaml(const std::filesystem::path& yamlFile);

// Ultralytics' IMG_FORMATS, compared case-insensitively on the suffix.
bool isImageFile(const std::filesystem::path& path);

// Something the listing left out that the user should hear of: a symbolic link to a folder
// already searched (a loop, or a second way into the same folder), or one that cannot be resolved.
struct ListingNote {
  std::filesystem::path path;
  std::string reason;
  bool operator==(const ListingNote&) const = default;
};

// The images of a split, sorted by path within each source: directories searched recursively
// (hidden entries skipped, as glob does; each real folder once, however many links lead to it),
// .txt lists read line by line. Listed files are not checked for existence here; verification
// reports them. Throws DatasetError when a list cannot be read (a FIFO, a device or a folder in
// its place included) or nothing at all is found.
std::vector<std::filesystem::path> listImages(const DatasetDescription& dataset,
                                              const SplitSources& split,
                                              std::vector<ListingNote>* notes = nullptr);

// Ultralytics' img2label_paths: the last `/images/` component becomes `/labels/` and the suffix
// becomes `.txt`; without an `/images/` component the label file lies beside the image.
std::filesystem::path labelPathFor(const std::filesystem::path& image);

}  // namespace syncbn::data
