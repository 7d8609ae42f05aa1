// The built-in demo dataset: filled circles, rectangles and triangles on textured backgrounds,
// written in the Ultralytics format. Deterministic for a seed on a given platform: the random
// numbers come from std::mt19937_64 (specified exactly by the standard) through distributions
// written here, not the standard library's (which differ between implementations).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace syncbn::data {

inline constexpr std::array<std::string_view, 3> kDemoClassNames{"circle", "rectangle", "triangle"};

struct DemoOptions {
  int train = 512;  // images in the train split
  int val = 128;    // images in the val split
  int imgsz = 320;  // square images of this many pixels
  std::uint64_t seed = 0;
  int workers = 0;  // threads; 0: one per hardware thread, at most 8
};

// One object as it is visible in the image; pixel box [x0, x1) x [y0, y1).
struct DemoObject {
  int cls = 0;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // the tight box of its visible pixels
  std::array<std::uint8_t, 3> bgr{};   // fill colour, before noise
  std::size_t visiblePixels = 0;
};

struct DemoImage {
  int size = 0;
  std::vector<std::uint8_t> bgr;        // size x size x 3, row-major
  std::vector<std::uint8_t> objectMap;  // size x size: 0 background, k + 1 where objects[k] shows
  std::vector<DemoObject> objects;      // drawn in this order; later ones cover earlier ones
};

// Draws one image. Objects are placed so that each keeps at least 60% of its own area visible
// and fills at least 30% of its box; boxes span about 5%-60% of the image.
DemoImage renderDemoImage(int imgsz, std::uint64_t seed);

// The seed of image `index` of `split`, derived from the dataset's seed.
std::uint64_t demoImageSeed(std::uint64_t seed, std::string_view split, int index);

// The label file of an image: one `class cx cy w h` row per object, 6 decimals.
std::string demoLabelText(const DemoImage& image);

// Writes DIR/images/{train,val}/*.jpg, DIR/labels/{train,val}/*.txt and, last, DIR/data.yaml.
// DIR must be new, empty, or an earlier demo dataset (which is replaced). Returns the data.yaml.
// Throws std::invalid_argument for bad options and std::runtime_error for I/O failures.
std::filesystem::path makeDemoData(const std::filesystem::path& dir, const DemoOptions& options);

// Where `data: demo` lives: $XDG_CACHE_HOME/syncbn-studio (else ~/.cache/syncbn-studio, else the
// temporary directory).
std::filesystem::path demoDataCacheRoot();

// The built-in demo dataset for `options` under `cacheRoot`, generated on first use and reused
// after (the folder name holds the options and the generator's version). Generation goes to a
// private folder that is renamed into place, so processes racing to create it (ranks, two runs)
// never see half a dataset. Returns the data.yaml.
std::filesystem::path builtInDemoData(const DemoOptions& options,
                                      const std::filesystem::path& cacheRoot = demoDataCacheRoot());

}  // namespace syncbn::data
