// Verification of a dataset before training: every image is decoded and every label file parsed,
// in parallel; bad files are skipped with the reason, never fatal. Results are cached beside the
// labels so that the next run re-checks only files whose size or modification time changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "data/dataset.h"
#include "data/image_header.h"
#include "data/label_file.h"

namespace syncbn::data {

// An image ready for training.
struct Sample {
  std::filesystem::path image;
  std::filesystem::path label;  // may not exist: then the image is a background
  int width = 0;                // as decoded, EXIF orientation applied
  int height = 0;
  std::vector<LabelRow> rows;  // duplicates removed
  bool operator==(const Sample&) const = default;
};

struct Problem {
  std::filesystem::path file;   // the image, or the label file for label problems
  std::filesystem::path image;  // the image the problem is about (its label: labelPathFor)
  int line = 0;                 // 1-based line in a label file; 0 when not about a line
  bool skipped = true;          // false for warnings: the image is still used
  std::string reason;
  bool operator==(const Problem&) const = default;
};

// Called as images are verified, from whichever worker thread finished one, serialised; `done`
// counts this split's images so far. At most ~200 calls a split, and always once at the end.
using VerifyProgress =
    std::function<void(const std::string& split, std::size_t done, std::size_t total)>;

struct VerifyOptions {
  int workers = 0;       // threads; 0: one per hardware thread, at most 8
  bool useCache = true;  // read the cache file; write it unless sampling
  // Verify this many images per split, drawn at random (seeded, listing order kept); 0: all. A
  // sample is a quick look at a very large dataset: its counts are the sample's, and it leaves
  // the cache as it was (a subset would evict the other images' entries).
  std::size_t sample = 0;
  std::uint64_t sampleSeed = 0;
  // data.max_image_pixels: an image above it is reported, above twice it refused from its
  // header, before decoding; 0: no limit.
  std::int64_t maxImagePixels = kPillowMaxImagePixels;
  VerifyProgress progress = nullptr;
  // Asked between images, from the worker threads: true ends the verification early, with the
  // report marked `stopped` (a SIGTERM or the GUI's stop while a large dataset is checked).
  std::function<bool()> stopRequested = nullptr;
};

// Bump when what is checked or stored changes, so that old cache files are ignored.
inline constexpr int kLabelCacheVersion = 1;

struct SplitReport {
  std::string split;
  std::size_t listed = 0;         // images found in the split's sources, before any sampling
  std::vector<Sample> samples;    // usable images, in listing order
  std::vector<Problem> problems;  // skipped files and warnings, in listing order
  std::size_t backgrounds = 0;    // usable images without a label row
  std::size_t skipped = 0;
  std::size_t duplicatesRemoved = 0;
  std::size_t instances = 0;
  std::vector<std::size_t> classInstances;  // indexed by class id
  std::vector<std::size_t> classImages;     // images with at least one instance of the class
  std::size_t checked = 0;                  // images verified now
  std::size_t fromCache = 0;                // images whose result came from the cache
  std::filesystem::path cacheFile;
  std::string cacheNote;  // why the cache was not saved, if it was not
  bool stopped = false;   // stopRequested ended it: the counts cover only part of the split
};

// Verifies `images` against `classCount` classes. The cache file is
// `<labels folder of the first image>.syncbn-cache.json` (not Ultralytics' `.cache`, whose
// format differs, so that the two never read each other's files).
SplitReport verifyImages(const std::string& split, const std::vector<std::filesystem::path>& images,
                         int classCount, const VerifyOptions& options = {});

struct DatasetReport {
  DatasetDescription dataset;
  std::vector<SplitReport> splits;  // in the order of dataset.splits
  bool stopped() const {
    for (const SplitReport& split : splits)
      if (split.stopped) return true;
    return false;
  }
};

// loadDataYaml, listImages and verifyImages for every split. Throws DatasetError when the
// data.yaml or a split's sources are unusable; a split whose images are all skipped is reported,
// not thrown: see requireUsableImages.
DatasetReport verifyDataset(const std::filesystem::path& yamlFile,
                            const VerifyOptions& options = {});

// Throws DatasetError naming the data.yaml and the split when a split has no usable image.
void requireUsableImages(const DatasetReport& report);

// The `dataset` progress message for one split, listing at most `maxProblems` problems.
protocol::DatasetSummary summarize(const DatasetReport& report, const SplitReport& split,
                                   std::size_t maxProblems = 100);

}  // namespace syncbn::data
