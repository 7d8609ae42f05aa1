#include "data/augment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/config.h"
#include "data/decoded_image_cache.h"
#include "data/portable_random.h"

namespace syncbn::data {
namespace {

constexpr int kFill = 114;  // Ultralytics' grey for padding and for pixels warped in from outside
// Ultralytics' box_candidates: what the random perspective may leave of a box.
constexpr double kMinBoxSide = 2.0;    // pixels, exclusive
constexpr double kMinAreaRatio = 0.1;  // of the box's area scaled by the zoom, exclusive
constexpr double kMaxAspect = 100.0;   // exclusive
constexpr double kEps = 1e-16;

// One stream per (seed, epoch, index); chained so that neighbouring triples share nothing.
std::uint64_t exampleSeed(std::uint64_t seed, int epoch, std::size_t index) {
  std::uint64_t h = splitmix64(seed ^ 0x6175676D656E7431ull);  // "augment1"
  h = splitmix64(h ^ static_cast<std::uint64_t>(static_cast<std::int64_t>(epoch)));
  return splitmix64(h ^ static_cast<std::uint64_t>(index));
}

// Every random choice of one training example, drawn up front in a fixed order, so that a setting
// (fliplr 0 or 1, mosaic on or off) changes what is done with the numbers, never which numbers the
// other steps get. Uniforms in [0, 1) unless named otherwise.
struct Draws {
  double mosaic = 0, centreX = 0, centreY = 0;
  std::array<std::size_t, 3> partners{};  // mosaic partners, dataset indices
  double angle = 0, zoom = 0, shearX = 0, shearY = 0, translateX = 0, translateY = 0;
  std::array<double, 3> hsv{};
  double flip = 0;
};

Draws drawFor(std::uint64_t seed, int epoch, std::size_t index, std::size_t datasetSize) {
  PortableRandom random(exampleSeed(seed, epoch, index));
  Draws d;
  d.mosaic = random.uniform();
  d.centreX = random.uniform();
  d.centreY = random.uniform();
  for (std::size_t& partner : d.partners)
    partner = random.below(datasetSize);
  d.angle = random.uniform();
  d.zoom = random.uniform();
  d.shearX = random.uniform();
  d.shearY = random.uniform();
  d.translateX = random.uniform();
  d.translateY = random.uniform();
  for (double& h : d.hsv)
    h = random.uniform();
  d.flip = random.uniform();
  return d;
}

// u in [0, 1) -> [lo, hi), as Python's random.uniform(lo, hi).
double between(double lo, double hi, double u) {
  return lo + (hi - lo) * u;
}

// A box in pixels of the picture it belongs to, corners (x0, y0) and (x1, y1).
struct Box {
  int cls = 0;
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct Picture {
  cv::Mat3b bgr;
  std::vector<Box> boxes;
};

struct Loaded {
  Picture picture;
  int originalWidth = 0, originalHeight = 0;  // as decoded
};

}  // namespace

// What the cache keeps of an image: its pixels after the load's resize, and its decoded size.
struct DecodedImageCache::Entry {
  cv::Mat3b bgr;
  int originalWidth = 0, originalHeight = 0;
};

namespace {

using DecodedImage = DecodedImageCache::Entry;

// Ultralytics' load_image: decode, then resize so that the long side is imgsz, keeping the aspect
// ratio; the short side is ceil(side * imgsz / long side). INTER_AREA when shrinking for
// validation (sharper), INTER_LINEAR when augmenting or enlarging.
DecodedImage decode(const Sample& sample, int imgsz, bool augmenting) {
  cv::Mat image = cv::imread(sample.image.string(), cv::IMREAD_COLOR);
  if (image.empty())
    throw std::runtime_error("cannot read image " + sample.image.string() +
                             " (missing, unreadable or not an image any more)");
  const int originalWidth = image.cols, originalHeight = image.rows;
  const int longSide = std::max(image.cols, image.rows);
  if (longSide != imgsz) {
    // Integer ceil, so that a product that is exact in theory is not rounded up by floating point.
    const auto shortened = [&](int side) {
      const long long scaled = static_cast<long long>(side) * imgsz;
      return static_cast<int>(std::min<long long>((scaled + longSide - 1) / longSide, imgsz));
    };
    const int interpolation = augmenting || imgsz > longSide ? cv::INTER_LINEAR : cv::INTER_AREA;
    cv::resize(image, image, cv::Size(shortened(image.cols), shortened(image.rows)), 0, 0,
               interpolation);
  }
  return {image, originalWidth, originalHeight};
}

// decode(), through `cache` when there is one. The picture shares the cached pixels: everything
// below writes its results into new images, never into a loaded one.
Loaded load(const Sample& sample, int imgsz, bool augmenting, DecodedImageCache* cache) {
  std::shared_ptr<const DecodedImage> decoded;
  std::string key;
  if (cache != nullptr && cache->capacityBytes() > 0) {
    // The interpolation depends on `augmenting`, so the two uses of an image are kept apart.
    key = std::to_string(imgsz) + (augmenting ? "/train/" : "/val/") + sample.image.string();
    decoded = cache->find(key);
  }
  if (decoded == nullptr) {
    auto fresh = std::make_shared<const DecodedImage>(decode(sample, imgsz, augmenting));
    if (!key.empty()) cache->insert(key, fresh, fresh->bgr.total() * fresh->bgr.elemSize());
    decoded = std::move(fresh);
  }
  Picture picture{decoded->bgr, {}};
  const double w = picture.bgr.cols, h = picture.bgr.rows;
  picture.boxes.reserve(sample.rows.size());
  for (const LabelRow& row : sample.rows)
    picture.boxes.push_back({row.cls, (row.cx - row.w / 2.0) * w, (row.cy - row.h / 2.0) * h,
                             (row.cx + row.w / 2.0) * w, (row.cy + row.h / 2.0) * h});
  return {std::move(picture), decoded->originalWidth, decoded->originalHeight};
}

struct Letterboxed {
  Picture picture;
  double ratio = 1;  // new / old
  int left = 0, top = 0;
};

// Ultralytics' LetterBox (scaleup, centred): scale by r = min(size / h, size / w), new sides
// round(side * r), padding split as top = round(dh - 0.1), bottom = round(dh + 0.1) with
// dh = (size - new h) / 2 (Python's round: half to even), so odd padding goes to the bottom/right.
// Boxes get the integer padding that the pixels got.
Letterboxed letterbox(Picture picture, int size) {
  const int w = picture.bgr.cols, h = picture.bgr.rows;
  const double r = std::min(static_cast<double>(size) / h, static_cast<double>(size) / w);
  const int newW = static_cast<int>(std::nearbyint(w * r));
  const int newH = static_cast<int>(std::nearbyint(h * r));
  if (newW != w || newH != h)
    cv::resize(picture.bgr, picture.bgr, cv::Size(newW, newH), 0, 0, cv::INTER_LINEAR);
  const double dw = (size - newW) / 2.0, dh = (size - newH) / 2.0;
  const int top = static_cast<int>(std::nearbyint(dh - 0.1));
  const int bottom = static_cast<int>(std::nearbyint(dh + 0.1));
  const int left = static_cast<int>(std::nearbyint(dw - 0.1));
  const int right = static_cast<int>(std::nearbyint(dw + 0.1));
  if (top != 0 || bottom != 0 || left != 0 || right != 0)  // else it would write in place
    cv::copyMakeBorder(picture.bgr, picture.bgr, top, bottom, left, right, cv::BORDER_CONSTANT,
                       cv::Scalar::all(kFill));
  for (Box& b : picture.boxes) {
    b.x0 = b.x0 * r + left;
    b.x1 = b.x1 * r + left;
    b.y0 = b.y0 * r + top;
    b.y1 = b.y1 * r + top;
  }
  return {std::move(picture), r, left, top};
}

// Ultralytics' Mosaic of 4 on a 2s x 2s canvas: the tiles meet at the centre (xc, yc); tile 0 is
// top-left of it, 1 top-right, 2 bottom-left, 3 bottom-right; each keeps the part of its image
// nearest the centre where the canvas cuts it. Boxes are shifted, clipped to the canvas, and
// dropped when nothing is left of them.
Picture mosaic(const std::array<Picture, 4>& tiles, int s, int xc, int yc) {
  const int canvasSide = 2 * s;
  Picture out{cv::Mat3b(canvasSide, canvasSide, cv::Vec3b(kFill, kFill, kFill)), {}};
  for (std::size_t k = 0; k < tiles.size(); ++k) {
    const Picture& tile = tiles[k];
    const int w = tile.bgr.cols, h = tile.bgr.rows;
    const bool left = k == 0 || k == 2, top = k == 0 || k == 1;
    const int x0 = left ? std::max(xc - w, 0) : xc, x1 = left ? xc : std::min(xc + w, canvasSide);
    const int y0 = top ? std::max(yc - h, 0) : yc, y1 = top ? yc : std::min(yc + h, canvasSide);
    const int srcX = left ? w - (x1 - x0) : 0, srcY = top ? h - (y1 - y0) : 0;
    tile.bgr(cv::Rect(srcX, srcY, x1 - x0, y1 - y0))
        .copyTo(out.bgr(cv::Rect(x0, y0, x1 - x0, y1 - y0)));
    const double dx = x0 - srcX, dy = y0 - srcY;
    for (Box b : tile.boxes) {
      b.x0 = std::clamp(b.x0 + dx, 0.0, static_cast<double>(canvasSide));
      b.x1 = std::clamp(b.x1 + dx, 0.0, static_cast<double>(canvasSide));
      b.y0 = std::clamp(b.y0 + dy, 0.0, static_cast<double>(canvasSide));
      b.y1 = std::clamp(b.y1 + dy, 0.0, static_cast<double>(canvasSide));
      if (b.x1 > b.x0 && b.y1 > b.y0) out.boxes.push_back(b);
    }
  }
  return out;
}

// Ultralytics' RandomPerspective with perspective 0: M = T * S * R * C, where C moves the input's
// centre to the origin, R rotates by a degrees (counter-clockwise on screen) and zooms by z,
// S shears by x and y angles, T moves the origin to (0.5 + tx, 0.5 + ty) * size. The output is
// size x size (the mosaic's border of -s/2 is the crop from 2s to s). A box becomes the min/max
// of its four transformed corners, clipped to the image, and survives box_candidates.
Picture randomPerspective(const Picture& in, int size, const AugmentSettings& settings,
                          const Draws& d, bool mosaicBorder) {
  const double degToRad = std::numbers::pi / 180.0;
  const double a = between(-settings.degrees, settings.degrees, d.angle) * degToRad;
  const double z = between(1 - settings.scale, 1 + settings.scale, d.zoom);
  const double shx = std::tan(between(-settings.shear, settings.shear, d.shearX) * degToRad);
  const double shy = std::tan(between(-settings.shear, settings.shear, d.shearY) * degToRad);
  const double tx = between(0.5 - settings.translate, 0.5 + settings.translate, d.translateX);
  const double ty = between(0.5 - settings.translate, 0.5 + settings.translate, d.translateY);

  const cv::Matx33d centre(1, 0, -in.bgr.cols / 2.0, 0, 1, -in.bgr.rows / 2.0, 0, 0, 1);
  // cv::getRotationMatrix2D's convention: [[z cos a, z sin a], [-z sin a, z cos a]].
  const cv::Matx33d rotate(z * std::cos(a), z * std::sin(a), 0, -z * std::sin(a), z * std::cos(a),
                           0, 0, 0, 1);
  const cv::Matx33d shear(1, shx, 0, shy, 1, 0, 0, 0, 1);
  const cv::Matx33d translate(1, 0, tx * size, 0, 1, ty * size, 0, 0, 1);
  const cv::Matx33d m = translate * shear * rotate * centre;

  Picture out;
  if (!mosaicBorder && in.bgr.cols == size && in.bgr.rows == size && m == cv::Matx33d::eye()) {
    out.bgr = in.bgr.clone();
  } else {
    const cv::Matx23d affine(m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2));
    cv::warpAffine(in.bgr, out.bgr, affine, cv::Size(size, size), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, cv::Scalar::all(kFill));
  }

  const double limit = size;
  for (const Box& b : in.boxes) {
    constexpr double kInf = std::numeric_limits<double>::infinity();
    double x0 = kInf, y0 = kInf, x1 = -kInf, y1 = -kInf;
    for (const auto& [x, y] : {std::pair{b.x0, b.y0}, std::pair{b.x1, b.y1}, std::pair{b.x0, b.y1},
                               std::pair{b.x1, b.y0}}) {
      const double u = m(0, 0) * x + m(0, 1) * y + m(0, 2);
      const double v = m(1, 0) * x + m(1, 1) * y + m(1, 2);
      x0 = std::min(x0, u);
      x1 = std::max(x1, u);
      y0 = std::min(y0, v);
      y1 = std::max(y1, v);
    }
    const Box moved{b.cls, std::clamp(x0, 0.0, limit), std::clamp(y0, 0.0, limit),
                    std::clamp(x1, 0.0, limit), std::clamp(y1, 0.0, limit)};
    // box_candidates: compared with the original box zoomed by z.
    const double w1 = (b.x1 - b.x0) * z, h1 = (b.y1 - b.y0) * z;
    const double w2 = moved.x1 - moved.x0, h2 = moved.y1 - moved.y0;
    const double aspect = std::max(w2 / (h2 + kEps), h2 / (w2 + kEps));
    if (w2 > kMinBoxSide && h2 > kMinBoxSide && w2 * h2 / (w1 * h1 + kEps) > kMinAreaRatio &&
        aspect < kMaxAspect)
      out.boxes.push_back(moved);
  }
  return out;
}

// Ultralytics' RandomHSV: gains g_i = 1 + gain_i * U(-1, 1) applied through lookup tables in
// OpenCV's 8-bit HSV (hue in [0, 180)): hue' = (hue * g_h) mod 180, s' = min(s * g_s, 255),
// v' = min(v * g_v, 255), each truncated to an integer. Skipped when every gain is 0.
void randomHsv(cv::Mat3b& bgr, const AugmentSettings& settings, const std::array<double, 3>& u) {
  if (settings.hsv_h == 0 && settings.hsv_s == 0 && settings.hsv_v == 0) return;
  const std::array<double, 3> gains{between(-1, 1, u[0]) * settings.hsv_h + 1,
                                    between(-1, 1, u[1]) * settings.hsv_s + 1,
                                    between(-1, 1, u[2]) * settings.hsv_v + 1};
  std::array<cv::Mat, 3> tables;
  for (int c = 0; c < 3; ++c) {
    tables[c] = cv::Mat(1, 256, CV_8U);
    for (int x = 0; x < 256; ++x) {
      const double value = x * gains[c];
      tables[c].at<std::uint8_t>(x) = static_cast<std::uint8_t>(
          c == 0 ? std::fmod(value, 180.0) : std::clamp(value, 0.0, 255.0));
    }
  }
  cv::Mat hsv;
  cv::cvtColor(bgr, hsv, cv::COLOR_BGR2HSV);
  std::array<cv::Mat, 3> channels;
  cv::split(hsv, channels.data());
  for (int c = 0; c < 3; ++c)
    cv::LUT(channels[c], tables[c], channels[c]);
  cv::merge(channels.data(), channels.size(), hsv);
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
}

// RGB bytes and normalised labels (clamped to [0, 1]); optionally mirrored left-right.
TrainingExample finish(const Picture& picture, std::size_t index, bool mirror) {
  TrainingExample example;
  example.index = index;
  example.height = picture.bgr.rows;
  example.width = picture.bgr.cols;
  example.rgb.resize(static_cast<std::size_t>(example.height) * example.width * 3);
  cv::Mat rgb(example.height, example.width, CV_8UC3, example.rgb.data());
  cv::cvtColor(picture.bgr, rgb, cv::COLOR_BGR2RGB);  // writes into example.rgb: same size, type
  if (mirror) cv::flip(rgb, rgb, 1);
  const double w = example.width, h = example.height;
  const auto unit = [](double v) { return static_cast<float>(std::clamp(v, 0.0, 1.0)); };
  example.labels.reserve(picture.boxes.size());
  for (const Box& b : picture.boxes) {
    LabelRow row{b.cls, unit((b.x0 + b.x1) / 2 / w), unit((b.y0 + b.y1) / 2 / h),
                 unit((b.x1 - b.x0) / w), unit((b.y1 - b.y0) / h)};
    if (mirror) row.cx = 1.0f - row.cx;
    example.labels.push_back(row);
  }
  return example;
}

void requireIn(double value, double lo, double hi, const char* name, bool hiOpen = false) {
  if (!(value >= lo && (hiOpen ? value < hi : value <= hi)))
    throw std::invalid_argument(std::string("augmentation setting ") + name + " = " +
                                std::to_string(value) + " is outside [" + std::to_string(lo) +
                                ", " + std::to_string(hi) + (hiOpen ? ")" : "]"));
}

void requireIndex(std::size_t index, std::size_t size) {
  if (index >= size)
    throw std::out_of_range("example " + std::to_string(index) + " of a dataset of " +
                            std::to_string(size) + " images");
}

}  // namespace

AugmentSettings AugmentSettings::fromConfig(const Config& config) {
  const TrainConfig& t = config.train;
  AugmentSettings s;
  s.imgsz = config.data.imgsz;
  s.seed = static_cast<uint64_t>(t.seed);
  s.augment = t.augment;
  s.hsv_h = t.hsv_h;
  s.hsv_s = t.hsv_s;
  s.hsv_v = t.hsv_v;
  s.degrees = t.degrees;
  s.translate = t.translate;
  s.scale = t.scale;
  s.shear = t.shear;
  s.fliplr = t.fliplr;
  s.mosaic = t.mosaic;
  s.epochs = t.epochs;
  s.close_mosaic = t.close_mosaic;
  return s;
}

bool AugmentSettings::mosaicInEpoch(int epoch) const {
  // Ultralytics closes mosaic when the epoch index reaches epochs - close_mosaic, so a run shorter
  // than close_mosaic never gets there and keeps it throughout (a short fine-tuning run, say).
  const int closesAt = epochs - close_mosaic;
  return mosaic > 0 && (close_mosaic <= 0 || closesAt < 0 || epoch < closesAt);
}

ExampleFactory::ExampleFactory(std::vector<Sample> samples, AugmentSettings settings,
                               std::shared_ptr<DecodedImageCache> cache)
    : samples_(std::move(samples)), settings_(settings), cache_(std::move(cache)) {
  if (settings_.imgsz < 1)
    throw std::invalid_argument("augmentation setting imgsz = " + std::to_string(settings_.imgsz) +
                                " must be at least 1");
  requireIn(settings_.hsv_h, 0, 1, "hsv_h");
  requireIn(settings_.hsv_s, 0, 1, "hsv_s");
  requireIn(settings_.hsv_v, 0, 1, "hsv_v");
  requireIn(settings_.degrees, 0, 360, "degrees");
  requireIn(settings_.translate, 0, 1, "translate");
  requireIn(settings_.scale, 0, 1, "scale", true);
  requireIn(settings_.shear, 0, 90, "shear", true);
  requireIn(settings_.fliplr, 0, 1, "fliplr");
  requireIn(settings_.mosaic, 0, 1, "mosaic");
}

TrainingExample ExampleFactory::validation(std::size_t index) const {
  requireIndex(index, samples_.size());
  Loaded loaded = load(samples_[index], settings_.imgsz, false, cache_.get());
  const int loadedLong = std::max(loaded.picture.bgr.cols, loaded.picture.bgr.rows);
  const Letterboxed boxed = letterbox(std::move(loaded.picture), settings_.imgsz);
  TrainingExample example = finish(boxed.picture, index, false);
  // Original to here: the load's resize of the long side, then the letterbox's.
  example.ratio = boxed.ratio * loadedLong / std::max(loaded.originalWidth, loaded.originalHeight);
  example.padX = boxed.left;
  example.padY = boxed.top;
  example.originalWidth = loaded.originalWidth;
  example.originalHeight = loaded.originalHeight;
  return example;
}

TrainingExample ExampleFactory::training(std::size_t index, int epoch) const {
  if (!settings_.augment) return validation(index);
  requireIndex(index, samples_.size());
  const int s = settings_.imgsz;
  const Draws d = drawFor(settings_.seed, epoch, index, samples_.size());
  Loaded own = load(samples_[index], s, true, cache_.get());
  const int originalWidth = own.originalWidth, originalHeight = own.originalHeight;
  Picture picture;
  if (settings_.mosaicInEpoch(epoch) && d.mosaic < settings_.mosaic) {
    // Centre uniform in [s/2, 2s - s/2), truncated (Ultralytics: border -s/2).
    const int lo = s / 2, hi = 2 * s - s / 2;
    const int xc = static_cast<int>(between(lo, hi, d.centreX));
    const int yc = static_cast<int>(between(lo, hi, d.centreY));
    const std::array<Picture, 4> tiles{
        std::move(own.picture), load(samples_[d.partners[0]], s, true, cache_.get()).picture,
        load(samples_[d.partners[1]], s, true, cache_.get()).picture,
        load(samples_[d.partners[2]], s, true, cache_.get()).picture};
    picture = randomPerspective(mosaic(tiles, s, xc, yc), s, settings_, d, true);
  } else {
    picture =
        randomPerspective(letterbox(std::move(own.picture), s).picture, s, settings_, d, false);
  }
  randomHsv(picture.bgr, settings_, d.hsv);
  TrainingExample example = finish(picture, index, d.flip < settings_.fliplr);
  example.originalWidth = originalWidth;
  example.originalHeight = originalHeight;
  return example;
}

}  // namespace syncbn::data
