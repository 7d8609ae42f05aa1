// An image's size read from its header alone, so that a decompression bomb (a small file that
// decodes to gigabytes) is refused before any pixel is decoded.
//
// Written here because OpenCV 4.6, the decoder the engine uses, has no public header-only query
// (its decoders' readHeader is internal), and its own pixel cap (OPENCV_IO_MAX_IMAGE_PIXELS, 2^30)
// is read once when the library loads, far above Pillow's rule, which Ultralytics users know.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace syncbn::data {

struct ImageSize {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::int64_t pixels() const { return width * height; }
  bool operator==(const ImageSize&) const = default;
};

// The size a PNG, JPEG (and MPO), BMP, WebP, TIFF (and DNG), PNM or PFM header states; nullopt
// for another format or a header too damaged to read (the decoder then has the last word).
std::optional<ImageSize> readImageSize(std::string_view bytes);

// Pillow's decompression-bomb rule (PIL.Image.MAX_IMAGE_PIXELS): warn above this many pixels,
// refuse above twice it. The engine's default for data.max_image_pixels.
inline constexpr std::int64_t kPillowMaxImagePixels = 89478485;

}  // namespace syncbn::data
