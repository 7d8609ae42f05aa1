#include "data/demo_data.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <mutex>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <thread>

#include "common/atomic_file.h"
#include "data/portable_random.h"

namespace syncbn::data {
namespace fs = std::filesystem;
namespace {

constexpr double kMinVisibleOfOwnArea = 0.6;  // an object keeps this much of itself visible
constexpr double kMinFillOfBox = 0.3;         // and fills this much of its (visible) box
constexpr int kJpegQuality = 90;
constexpr const char* kMarkerFile = ".syncbn-demo";

using Random = PortableRandom;

cv::Mat3b background(int size, Random& random) {
  cv::Vec3d from, to;
  for (int c = 0; c < 3; ++c) {
    from[c] = random.between(20, 235);
    to[c] = random.between(20, 235);
  }
  const double angle = random.uniform(0, 2 * std::numbers::pi);
  const double gx = std::cos(angle), gy = std::sin(angle);
  const double period = random.uniform(6, 40);
  const double stripeAngle = random.uniform(0, std::numbers::pi);
  const double sx = std::cos(stripeAngle), sy = std::sin(stripeAngle);
  const double amplitude = random.uniform(0, 30);
  cv::Mat3b image(size, size);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double t =
          std::clamp(0.5 + ((x - size / 2.0) * gx + (y - size / 2.0) * gy) / size, 0.0, 1.0);
      const bool stripe = static_cast<long long>(std::floor((x * sx + y * sy) / period)) % 2 == 0;
      const double offset = stripe ? amplitude : -amplitude;
      cv::Vec3b& pixel = image(y, x);
      for (int c = 0; c < 3; ++c)
        pixel[c] = cv::saturate_cast<std::uint8_t>(from[c] + (to[c] - from[c]) * t + offset);
    }
  }
  return image;
}

// Uniform noise in [-amplitude, amplitude], eight pixels' channels per 64-bit draw.
void addNoise(cv::Mat3b& image, Random& random) {
  const int amplitude = random.between(4, 18);
  const auto span = static_cast<std::uint64_t>(2 * amplitude + 1);
  std::uint64_t draw = 0;
  int left = 0;
  for (auto it = image.begin(); it != image.end(); ++it) {
    for (int c = 0; c < 3; ++c) {
      if (left == 0) {
        draw = random.bits();
        left = 8;
      }
      const int noise = static_cast<int>((draw & 0xFF) % span) - amplitude;
      draw >>= 8;
      --left;
      (*it)[c] = cv::saturate_cast<std::uint8_t>((*it)[c] + noise);
    }
  }
}

cv::Mat1b shapeMask(int size, int cls, Random& random) {
  cv::Mat1b mask(size, size, std::uint8_t{0});
  const double extent = random.uniform(0.05, 0.6) * size;
  const double margin = extent * 0.3;  // lets shapes be cut by the border, but not mostly
  const cv::Point2d centre(random.uniform(margin, size - margin),
                           random.uniform(margin, size - margin));
  const auto point = [&](double dx, double dy) {
    return cv::Point(static_cast<int>(std::lround(centre.x + dx)),
                     static_cast<int>(std::lround(centre.y + dy)));
  };
  if (cls == 0) {
    cv::circle(mask, point(0, 0), std::max(2, static_cast<int>(extent / 2)), 255, cv::FILLED,
               cv::LINE_8);
  } else if (cls == 1) {
    // The diagonal is `extent`, so that no rotation makes the box larger than it.
    const double aspect = random.uniform(0.35, 1.0);
    const double w = extent / std::sqrt(1 + aspect * aspect), h = w * aspect;
    const double a = random.uniform(0, std::numbers::pi);
    const double c = std::cos(a), s = std::sin(a);
    std::vector<cv::Point> corners;
    for (const auto& [u, v] :
         {std::pair{-1, -1}, std::pair{1, -1}, std::pair{1, 1}, std::pair{-1, 1}})
      corners.push_back(point(u * w / 2 * c - v * h / 2 * s, u * w / 2 * s + v * h / 2 * c));
    cv::fillConvexPoly(mask, corners, 255, cv::LINE_8);
  } else {
    const double start = random.uniform(0, 2 * std::numbers::pi);
    std::vector<cv::Point> corners;
    for (int k = 0; k < 3; ++k) {
      const double a = start + k * 2 * std::numbers::pi / 3 + random.uniform(-0.4, 0.4);
      const double r = extent / 2 * random.uniform(0.75, 1.0);
      corners.push_back(point(r * std::cos(a), r * std::sin(a)));
    }
    cv::fillConvexPoly(mask, corners, 255, cv::LINE_8);
  }
  return mask;
}

struct Placed {
  int cls = 0;
  cv::Vec3b colour;
  std::size_t ownArea = 0;
};

// Whether object `id` (1-based in `ids`) still shows enough of itself.
bool visibleEnough(const cv::Mat1b& ids, int id, std::size_t ownArea, cv::Rect* box = nullptr) {
  const cv::Mat1b visible = ids == id;
  const int pixels = cv::countNonZero(visible);
  if (pixels == 0) return false;
  const cv::Rect rect = cv::boundingRect(visible);
  if (box) *box = rect;
  return pixels >= kMinVisibleOfOwnArea * static_cast<double>(ownArea) &&
         pixels >= kMinFillOfBox * rect.area();
}

cv::Vec3b contrastingColour(const cv::Mat3b& image, const cv::Mat1b& mask, Random& random) {
  const cv::Scalar under = cv::mean(image, mask);
  cv::Vec3b best;
  double bestDistance = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const cv::Vec3b colour(static_cast<std::uint8_t>(random.below(256)),
                           static_cast<std::uint8_t>(random.below(256)),
                           static_cast<std::uint8_t>(random.below(256)));
    double distance = 0;
    for (int c = 0; c < 3; ++c)
      distance += std::abs(colour[c] - under[c]);
    if (distance > bestDistance) {
      best = colour;
      bestDistance = distance;
    }
    if (distance >= 160) break;
  }
  return best;
}

std::string formatted(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

void writeText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

std::string imageName(std::string_view split, int index) {
  char name[64];
  std::snprintf(name, sizeof name, "%.*s_%06d", static_cast<int>(split.size()), split.data(),
                index);
  return name;
}

void prepareFolder(const fs::path& dir) {
  std::error_code error;
  if (fs::exists(dir, error)) {
    if (!fs::is_directory(dir, error)) throw std::runtime_error(dir.string() + " is not a folder");
    const bool empty = fs::is_empty(dir, error);
    if (!empty && !fs::exists(dir / kMarkerFile, error))
      throw std::runtime_error(dir.string() +
                               " is not empty and holds no earlier demo dataset; choose a new or "
                               "empty folder");
  }
  fs::create_directories(dir);
  writeText(dir / kMarkerFile,
            "Written by syncbn-engine make-demo-data; replaced by its next run.\n");
  // data.yaml goes first and comes back last: an interrupted run leaves no usable dataset.
  fs::remove(dir / "data.yaml");
  fs::remove_all(dir / "images");
  fs::remove_all(dir / "labels");
}

}  // namespace

std::uint64_t demoImageSeed(std::uint64_t seed, std::string_view split, int index) {
  std::uint64_t h = splitmix64(seed);
  for (const char c : split)
    h = splitmix64(h ^ static_cast<unsigned char>(c));
  return splitmix64(h ^ static_cast<std::uint64_t>(index));
}

DemoImage renderDemoImage(int imgsz, std::uint64_t seed) {
  Random random(seed);
  cv::Mat3b image = background(imgsz, random);
  cv::Mat1b ids(imgsz, imgsz, std::uint8_t{0});
  std::vector<Placed> placed;

  const int wanted = random.uniform() < 0.05 ? 0 : random.between(1, 6);
  for (int attempt = 0; attempt < 40 && static_cast<int>(placed.size()) < wanted; ++attempt) {
    const int cls = random.below(3);
    const cv::Mat1b mask = shapeMask(imgsz, cls, random);
    const auto area = static_cast<std::size_t>(cv::countNonZero(mask));
    const cv::Vec3b colour = contrastingColour(image, mask, random);
    if (area < 40) continue;
    cv::Mat1b trial = ids.clone();
    const int id = static_cast<int>(placed.size()) + 1;
    trial.setTo(id, mask);
    bool fits = visibleEnough(trial, id, area);
    for (int k = 0; fits && k < static_cast<int>(placed.size()); ++k)
      fits = visibleEnough(trial, k + 1, placed[static_cast<std::size_t>(k)].ownArea);
    if (!fits) continue;
    ids = trial;
    placed.push_back({.cls = cls, .colour = colour, .ownArea = area});
  }

  DemoImage result;
  result.size = imgsz;
  for (std::size_t k = 0; k < placed.size(); ++k) {
    const int id = static_cast<int>(k) + 1;
    image.setTo(placed[k].colour, ids == id);
    cv::Rect box;
    visibleEnough(ids, id, placed[k].ownArea, &box);
    const cv::Vec3b& c = placed[k].colour;
    result.objects.push_back(
        {.cls = placed[k].cls,
         .x0 = box.x,
         .y0 = box.y,
         .x1 = box.x + box.width,
         .y1 = box.y + box.height,
         .bgr = {c[0], c[1], c[2]},
         .visiblePixels = static_cast<std::size_t>(cv::countNonZero(ids == id))});
  }
  addNoise(image, random);
  result.bgr.assign(image.datastart, image.dataend);
  result.objectMap.assign(ids.datastart, ids.dataend);
  return result;
}

std::string demoLabelText(const DemoImage& image) {
  std::string text;
  const double size = image.size;
  for (const auto& o : image.objects)
    text += std::to_string(o.cls) + " " + formatted((o.x0 + o.x1) / 2.0 / size) + " " +
            formatted((o.y0 + o.y1) / 2.0 / size) + " " + formatted((o.x1 - o.x0) / size) + " " +
            formatted((o.y1 - o.y0) / size) + "\n";
  return text;
}

fs::path makeDemoData(const fs::path& dir, const DemoOptions& options) {
  if (options.train < 1 || options.val < 1)
    throw std::invalid_argument("--train and --val must be at least 1");
  if (options.imgsz < 32 || options.imgsz > 4096)
    throw std::invalid_argument("--imgsz must be between 32 and 4096");
  prepareFolder(dir);

  struct Job {
    std::string_view split;
    int index;
  };
  std::vector<Job> jobs;
  for (const auto& [split, count] :
       {std::pair<std::string_view, int>{"train", options.train}, {"val", options.val}}) {
    fs::create_directories(dir / "images" / split);
    fs::create_directories(dir / "labels" / split);
    for (int i = 0; i < count; ++i)
      jobs.push_back({split, i});
  }

  std::atomic<std::size_t> next{0};
  std::mutex failureMutex;
  std::exception_ptr failure;
  const auto work = [&] {
    try {
      for (std::size_t j = next++; j < jobs.size(); j = next++) {
        const auto [split, index] = jobs[j];
        const DemoImage image =
            renderDemoImage(options.imgsz, demoImageSeed(options.seed, split, index));
        const std::string name = imageName(split, index);
        const fs::path imagePath = dir / "images" / split / (name + ".jpg");
        const cv::Mat pixels(image.size, image.size, CV_8UC3,
                             const_cast<std::uint8_t*>(image.bgr.data()));  // imwrite only reads
        if (!cv::imwrite(imagePath.string(), pixels, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality}))
          throw std::runtime_error("cannot write " + imagePath.string());
        // No label file: a background image, as Ultralytics reads it.
        if (!image.objects.empty())
          writeText(dir / "labels" / split / (name + ".txt"), demoLabelText(image));
      }
    } catch (...) {
      const std::lock_guard lock(failureMutex);
      if (!failure) failure = std::current_exception();
      next = jobs.size();  // the other workers stop too
    }
  };
  {
    int workers = options.workers;
    if (workers <= 0)
      workers = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
    std::vector<std::jthread> threads;
    for (int w = 1; w < workers; ++w)
      threads.emplace_back(work);
    work();
  }
  if (failure) std::rethrow_exception(failure);

  std::string yaml = "# SyncBN Studio demo dataset (syncbn-engine make-demo-data): seed " +
                     std::to_string(options.seed) + ", " + std::to_string(options.imgsz) +
                     " px images.\n# No `path`: the dataset root is this file's folder.\n"
                     "train: images/train\nval: images/val\nnames: [";
  for (std::size_t c = 0; c < kDemoClassNames.size(); ++c)
    yaml += (c ? ", " : "") + std::string(kDemoClassNames[c]);
  yaml += "]\n";
  const fs::path yamlFile = dir / "data.yaml";
  writeFileAtomically(yamlFile, yaml);
  return yamlFile;
}

fs::path demoDataCacheRoot() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return fs::path(xdg) / "syncbn-studio";
  if (const char* home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "syncbn-studio";
  return fs::temp_directory_path() / "syncbn-studio";
}

fs::path builtInDemoData(const DemoOptions& options, const fs::path& cacheRoot) {
  // Bump when the generator's output changes, so cached datasets of the old one are not reused.
  constexpr int kGeneratorVersion = 1;
  const std::string name = "demo-v" + std::to_string(kGeneratorVersion) + "-" +
                           std::to_string(options.imgsz) + "px-" + std::to_string(options.train) +
                           "-" + std::to_string(options.val) + "-seed" +
                           std::to_string(options.seed);
  const fs::path dir = cacheRoot / name;
  // makeDemoData writes data.yaml last: its presence means a complete dataset.
  if (fs::exists(dir / "data.yaml")) return dir / "data.yaml";

  fs::create_directories(cacheRoot);
  const fs::path scratch =
      cacheRoot / (name + ".partial-" + std::to_string(static_cast<long>(::getpid())));
  fs::remove_all(scratch);
  makeDemoData(scratch, options);
  // Nobody writes into `dir` itself, so one without data.yaml is damaged, never in progress.
  if (fs::exists(dir) && !fs::exists(dir / "data.yaml")) fs::remove_all(dir);
  std::error_code error;
  fs::rename(scratch, dir, error);
  if (error) {
    fs::remove_all(scratch);
    // Another process finished first: use its dataset.
    if (!fs::exists(dir / "data.yaml"))
      throw std::runtime_error("cannot move the demo dataset into " + dir.string() + ": " +
                               error.message());
  }
  return dir / "data.yaml";
}

}  // namespace syncbn::data
