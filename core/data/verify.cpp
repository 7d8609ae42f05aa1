#include "data/verify.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <system_error>
#include <thread>

#include "common/atomic_file.h"
#include "common/memory_estimate.h"
#include "common/regular_file.h"

namespace syncbn::data {
namespace fs = std::filesystem;
namespace {

using Json = nlohmann::json;

constexpr int kMinImageSide = 10;  // Ultralytics rejects images under 10 px on a side

// Identifies one version of a file; a change to either number invalidates its cache entry.
struct FileStamp {
  bool exists = false;
  std::uintmax_t size = 0;
  long long mtime = 0;  // file clock ticks
  bool operator==(const FileStamp&) const = default;
};

FileStamp stampOf(const fs::path& path) {
  std::error_code error;
  FileStamp stamp;
  if (!fs::is_regular_file(path, error)) return stamp;
  stamp.size = fs::file_size(path, error);
  if (error) return stamp;
  stamp.mtime = static_cast<long long>(fs::last_write_time(path, error).time_since_epoch().count());
  stamp.exists = !error;
  return stamp;
}

// What verifying one image (and its label file) found.
struct Outcome {
  FileStamp imageStamp;
  FileStamp labelStamp;
  int width = 0;
  int height = 0;
  std::vector<LabelRow> rows;
  std::size_t duplicatesRemoved = 0;
  std::string error;  // empty: usable
  bool labelError = false;
  int errorLine = 0;
  bool fromCache = false;
  bool pixelsRefused = false;  // refused by the pixel limit: not cached, the limit may change
};

bool isJpeg(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
         static_cast<unsigned char>(bytes[1]) == 0xD8;
}

// "900.0 Mpixel", or "3000 pixels" below a tenth of a megapixel.
std::string megapixels(std::int64_t pixels) {
  if (pixels < 100000) return std::to_string(pixels) + " pixels";
  std::ostringstream text;
  text.precision(1);
  text << std::fixed << static_cast<double>(pixels) / 1e6 << " Mpixel";
  return text.str();
}

// Refuses an image above twice the limit (Pillow's DecompressionBombError); `outcome` keeps the
// size, so the report can say it.
bool refuseByPixels(std::int64_t width, std::int64_t height, std::int64_t maxPixels,
                    Outcome& outcome) {
  if (maxPixels <= 0 || width * height <= 2 * maxPixels) return false;
  outcome.width = static_cast<int>(std::min<std::int64_t>(width, INT32_MAX));
  outcome.height = static_cast<int>(std::min<std::int64_t>(height, INT32_MAX));
  outcome.error = "image is " + std::to_string(width) + "x" + std::to_string(height) + " px (" +
                  megapixels(width * height) + "), more than twice data.max_image_pixels (2 x " +
                  megapixels(maxPixels) +
                  "): refused without decoding, a possible decompression bomb";
  outcome.pixelsRefused = true;
  return true;
}

// Decodes the whole image: the loader will, and a size read from the header alone does not
// prove the pixels are there. The header's size is checked against the pixel limit first.
void checkImage(const fs::path& image, std::int64_t maxPixels, Outcome& outcome) {
  std::string error;
  const auto bytes = tryReadRegularFile(image, kMaxImageFileBytes, error);
  if (!bytes) {
    outcome.error = "cannot read image: " + error;
    return;
  }
  if (bytes->empty()) {
    outcome.error = "empty image file";
    return;
  }
  if (const auto size = readImageSize(*bytes);
      size && refuseByPixels(size->width, size->height, maxPixels, outcome))
    return;
  // libjpeg pads a truncated file with grey and only warns; the end-of-image marker tells.
  if (isJpeg(*bytes) && !bytes->ends_with("\xFF\xD9")) {
    outcome.error = "truncated JPEG: no end-of-image marker";
    return;
  }
  cv::Mat decoded;
  try {
    const cv::Mat raw(1, static_cast<int>(bytes->size()), CV_8U,
                      const_cast<char*>(bytes->data()));  // imdecode only reads it
    decoded = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    outcome.error = "cannot decode image: " + e.msg;
    return;
  }
  if (decoded.empty()) {
    outcome.error = "cannot decode image (corrupt, or not an image format OpenCV reads)";
    return;
  }
  outcome.width = decoded.cols;
  outcome.height = decoded.rows;
  if (outcome.width < kMinImageSide || outcome.height < kMinImageSide)
    outcome.error = "image is " + std::to_string(outcome.width) + "x" +
                    std::to_string(outcome.height) + " px: smaller than " +
                    std::to_string(kMinImageSide) + " px on a side";
}

void checkLabels(const fs::path& label, int classCount, Outcome& outcome) {
  if (!outcome.labelStamp.exists) {
    // No label file: a background image. Something else in its place is a mistake to report.
    if (const auto kind = nonRegularKind(label)) {
      outcome.error = "label path is " + *kind + ", not a label file";
      outcome.labelError = true;
    }
    return;
  }
  std::string error;
  const auto text = tryReadRegularFile(label, kMaxTextFileBytes, error);
  if (!text) {
    outcome.error = "cannot read label file: " + error;
    outcome.labelError = true;
    return;
  }
  ParsedLabels parsed = parseLabels(*text, classCount);
  if (!parsed.ok()) {
    outcome.error = std::move(parsed.error);
    outcome.errorLine = parsed.errorLine;
    outcome.labelError = true;
    return;
  }
  outcome.rows = std::move(parsed.rows);
  outcome.duplicatesRemoved = parsed.duplicatesRemoved;
}

Outcome verifyOne(const fs::path& image, FileStamp imageStamp, FileStamp labelStamp, int classCount,
                  std::int64_t maxPixels) {
  Outcome outcome;
  outcome.imageStamp = imageStamp;
  outcome.labelStamp = labelStamp;
  checkImage(image, maxPixels, outcome);
  if (outcome.error.empty()) checkLabels(labelPathFor(image), classCount, outcome);
  return outcome;
}

// ---- Cache file ----

Json stampToJson(const FileStamp& stamp) {
  return stamp.exists ? Json::array({stamp.size, stamp.mtime}) : Json(nullptr);
}

FileStamp stampFromJson(const Json& json) {
  if (json.is_null()) return {};
  return {.exists = true,
          .size = json.at(0).get<std::uintmax_t>(),
          .mtime = json.at(1).get<long long>()};
}

Json outcomeToJson(const Outcome& o) {
  Json rows = Json::array();
  for (const auto& r : o.rows)
    rows.push_back(Json::array({r.cls, r.cx, r.cy, r.w, r.h}));
  return Json{{"image", stampToJson(o.imageStamp)},
              {"label", stampToJson(o.labelStamp)},
              {"width", o.width},
              {"height", o.height},
              {"rows", std::move(rows)},
              {"duplicates", o.duplicatesRemoved},
              {"error", o.error},
              {"label_error", o.labelError},
              {"line", o.errorLine}};
}

Outcome outcomeFromJson(const Json& j) {
  Outcome o;
  o.imageStamp = stampFromJson(j.at("image"));
  o.labelStamp = stampFromJson(j.at("label"));
  o.width = j.at("width").get<int>();
  o.height = j.at("height").get<int>();
  for (const auto& r : j.at("rows"))
    o.rows.push_back({.cls = r.at(0).get<int>(),
                      .cx = r.at(1).get<float>(),
                      .cy = r.at(2).get<float>(),
                      .w = r.at(3).get<float>(),
                      .h = r.at(4).get<float>()});
  o.duplicatesRemoved = j.at("duplicates").get<std::size_t>();
  o.error = j.at("error").get<std::string>();
  o.labelError = j.at("label_error").get<bool>();
  o.errorLine = j.at("line").get<int>();
  o.fromCache = true;
  return o;
}

// Entries of a readable cache written for the same version and classes; anything else (a missing,
// garbled or foreign file) yields no entries and the split is simply verified again.
std::map<std::string, Outcome> readCache(const fs::path& file, int classCount) {
  std::map<std::string, Outcome> entries;
  // A FIFO, a folder or a huge file in its place is no cache either (and must not block).
  std::string error;
  const auto text = tryReadRegularFile(file, kMaxImageListBytes, error);
  if (!text) return entries;
  const Json cache = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!cache.is_object() || cache.value("version", Json()) != kLabelCacheVersion ||
      cache.value("classes", Json()) != classCount || !cache.contains("images") ||
      !cache["images"].is_object())
    return entries;
  for (const auto& [image, entry] : cache["images"].items()) {
    try {
      entries.emplace(image, outcomeFromJson(entry));
    } catch (const Json::exception&) {
      // A damaged entry is verified again.
    }
  }
  return entries;
}

void writeCache(const fs::path& file, int classCount, const std::vector<fs::path>& images,
                const std::vector<Outcome>& outcomes) {
  Json entries = Json::object();
  for (std::size_t i = 0; i < images.size(); ++i)
    if (!outcomes[i].pixelsRefused) entries[images[i].string()] = outcomeToJson(outcomes[i]);
  const Json cache{
      {"version", kLabelCacheVersion}, {"classes", classCount}, {"images", std::move(entries)}};
  writeFileAtomically(file, cache.dump(-1, ' ', false, Json::error_handler_t::replace));
}

int workerCount(const VerifyOptions& options, std::size_t jobs) {
  int workers = options.workers;
  if (workers <= 0)
    workers = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
  return static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(workers), jobs));
}

void tally(SplitReport& report, const fs::path& image, Outcome outcome, std::int64_t maxPixels) {
  const fs::path label = labelPathFor(image);
  const std::int64_t pixels = std::int64_t{outcome.width} * outcome.height;
  if (outcome.error.empty() && maxPixels > 0 && pixels > maxPixels)
    report.problems.push_back({.file = image,
                               .image = image,
                               .line = 0,
                               .skipped = false,
                               .reason = "image is " + std::to_string(outcome.width) + "x" +
                                         std::to_string(outcome.height) + " px (" +
                                         megapixels(pixels) + "), above data.max_image_pixels (" +
                                         megapixels(maxPixels) + "): every load decodes " +
                                         formatBytes(static_cast<std::uint64_t>(pixels) * 3) +
                                         "; twice the limit is refused"});
  if (!outcome.error.empty()) {
    ++report.skipped;
    report.problems.push_back({.file = outcome.labelError ? label : image,
                               .image = image,
                               .line = outcome.errorLine,
                               .skipped = true,
                               .reason = std::move(outcome.error)});
    return;
  }
  if (outcome.duplicatesRemoved > 0) {
    report.duplicatesRemoved += outcome.duplicatesRemoved;
    const std::size_t n = outcome.duplicatesRemoved;
    report.problems.push_back(
        {.file = label,
         .image = image,
         .line = 0,
         .skipped = false,
         .reason = std::to_string(n) + " duplicate label" + (n == 1 ? "" : "s") + " removed"});
  }
  if (outcome.rows.empty()) ++report.backgrounds;
  report.instances += outcome.rows.size();
  std::vector<bool> present(report.classInstances.size(), false);
  for (const auto& row : outcome.rows) {
    ++report.classInstances[static_cast<std::size_t>(row.cls)];
    present[static_cast<std::size_t>(row.cls)] = true;
  }
  for (std::size_t c = 0; c < present.size(); ++c)
    report.classImages[c] += present[c] ? 1 : 0;
  report.samples.push_back({.image = image,
                            .label = label,
                            .width = outcome.width,
                            .height = outcome.height,
                            .rows = std::move(outcome.rows)});
}

// `count` of `images` at random, in listing order; all of them when count is 0 or not smaller.
std::vector<fs::path> sampleImages(const std::vector<fs::path>& images, std::size_t count,
                                   std::uint64_t seed) {
  if (count == 0 || count >= images.size()) return images;
  std::vector<std::size_t> picked(images.size());
  std::iota(picked.begin(), picked.end(), std::size_t{0});
  std::mt19937_64 random(seed);
  // A partial Fisher-Yates shuffle draws `count` distinct indices.
  for (std::size_t i = 0; i < count; ++i)
    std::swap(picked[i], picked[i + random() % (picked.size() - i)]);
  picked.resize(count);
  std::sort(picked.begin(), picked.end());
  std::vector<fs::path> sample;
  sample.reserve(count);
  for (std::size_t i : picked)
    sample.push_back(images[i]);
  return sample;
}

int asInt(std::size_t n) {
  return static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(INT32_MAX)));
}

}  // namespace

SplitReport verifyImages(const std::string& split, const std::vector<fs::path>& images,
                         int classCount, const VerifyOptions& options) {
  SplitReport report;
  report.split = split;
  report.listed = images.size();
  report.classInstances.assign(static_cast<std::size_t>(std::max(classCount, 0)), 0);
  report.classImages = report.classInstances;
  if (images.empty()) return report;

  report.cacheFile = labelPathFor(images.front()).parent_path();
  report.cacheFile += ".syncbn-cache.json";
  const std::map<std::string, Outcome> cached =
      options.useCache ? readCache(report.cacheFile, classCount) : std::map<std::string, Outcome>{};

  std::vector<Outcome> outcomes(images.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex progressMutex;
  const std::size_t progressStep = std::max<std::size_t>(1, images.size() / 200);
  const auto reportProgress = [&] {
    const std::size_t finished = ++done;
    if (!options.progress || (finished % progressStep != 0 && finished != images.size())) return;
    const std::lock_guard lock(progressMutex);
    options.progress(split, finished, images.size());
  };
  std::atomic<bool> stopped{false};
  const auto work = [&] {
    for (std::size_t i = next++; i < images.size(); i = next++) {
      if (stopped.load() || (options.stopRequested && options.stopRequested())) {
        stopped.store(true);
        break;
      }
      const FileStamp imageStamp = stampOf(images[i]);
      const FileStamp labelStamp = stampOf(labelPathFor(images[i]));
      const auto hit = cached.find(images[i].string());
      if (hit != cached.end() && hit->second.imageStamp == imageStamp &&
          hit->second.labelStamp == labelStamp) {
        outcomes[i] = hit->second;
        // The limit may have been lowered since the image was verified.
        if (outcomes[i].error.empty())
          refuseByPixels(outcomes[i].width, outcomes[i].height, options.maxImagePixels,
                         outcomes[i]);
      } else {
        outcomes[i] =
            verifyOne(images[i], imageStamp, labelStamp, classCount, options.maxImagePixels);
      }
      reportProgress();
    }
  };
  {
    std::vector<std::jthread> workers;
    for (int w = 1; w < workerCount(options, images.size()); ++w)
      workers.emplace_back(work);
    work();
  }  // joined here
  if (stopped.load()) {
    // Part of the split is unverified: nothing is cached or counted.
    report.stopped = true;
    report.cacheNote = "cache not written: verification was stopped";
    return report;
  }

  for (std::size_t i = 0; i < images.size(); ++i) {
    if (outcomes[i].fromCache) {
      ++report.fromCache;
    } else {
      ++report.checked;
    }
  }
  if (options.sample > 0) {
    if (options.useCache) report.cacheNote = "cache not written: a sample verifies a subset";
  } else if (options.useCache && (report.checked > 0 || cached.size() != images.size())) {
    try {
      writeCache(report.cacheFile, classCount, images, outcomes);
    } catch (const std::exception& e) {
      report.cacheNote = std::string("cache not saved: ") + e.what();
    }
  }
  for (std::size_t i = 0; i < images.size(); ++i)
    tally(report, images[i], std::move(outcomes[i]), options.maxImagePixels);
  return report;
}

DatasetReport verifyDataset(const fs::path& yamlFile, const VerifyOptions& options) {
  DatasetReport report{.dataset = loadDataYaml(yamlFile), .splits = {}};
  for (const auto& split : report.dataset.splits) {
    std::vector<ListingNote> notes;
    const std::vector<fs::path> listed = listImages(report.dataset, split, &notes);
    SplitReport splitReport =
        verifyImages(split.split, sampleImages(listed, options.sample, options.sampleSeed),
                     static_cast<int>(report.dataset.names.size()), options);
    splitReport.listed = listed.size();
    if (splitReport.stopped) {
      report.splits.push_back(std::move(splitReport));
      return report;
    }
    std::vector<Problem> listing;  // first: they explain the count of images listed
    for (const ListingNote& note : notes)
      listing.push_back({.file = note.path,
                         .image = note.path,
                         .line = 0,
                         .skipped = false,
                         .reason = note.reason});
    splitReport.problems.insert(splitReport.problems.begin(), listing.begin(), listing.end());
    report.splits.push_back(std::move(splitReport));
  }
  return report;
}

void requireUsableImages(const DatasetReport& report) {
  for (std::size_t i = 0; i < report.splits.size(); ++i) {
    const SplitReport& split = report.splits[i];
    if (!split.samples.empty()) continue;
    throw DatasetError(
        report.dataset.yamlFile, report.dataset.splits[i].line, split.split,
        "no usable image: all " + std::to_string(split.skipped) + " images were skipped");
  }
}

protocol::DatasetSummary summarize(const DatasetReport& report, const SplitReport& split,
                                   std::size_t maxProblems) {
  protocol::DatasetSummary summary{.data = report.dataset.yamlFile.string(),
                                   .split = split.split,
                                   .images = asInt(split.samples.size()),
                                   .backgrounds = asInt(split.backgrounds),
                                   .skipped = asInt(split.skipped),
                                   .duplicates_removed = asInt(split.duplicatesRemoved),
                                   .instances = asInt(split.instances),
                                   .classes = {},
                                   .problems = {},
                                   .problems_total = asInt(split.problems.size())};
  for (std::size_t c = 0; c < report.dataset.names.size() && c < split.classImages.size(); ++c)
    summary.classes.push_back({.name = report.dataset.names[c],
                               .images = asInt(split.classImages[c]),
                               .instances = asInt(split.classInstances[c])});
  for (std::size_t p = 0; p < split.problems.size() && p < maxProblems; ++p) {
    const Problem& problem = split.problems[p];
    summary.problems.push_back({.file = problem.file.string(),
                                .line = problem.line,
                                .level = problem.skipped ? "error" : "warning",
                                .reason = problem.reason});
  }
  return summary;
}

}  // namespace syncbn::data
