#include "data/image_header.h"

#include <cctype>
#include <string>

namespace syncbn::data {
namespace {

std::uint32_t byteAt(std::string_view b, std::size_t i) {
  return static_cast<unsigned char>(b[i]);
}

// Readers for fixed-width integers; the caller checks that the bytes are there.
std::uint32_t be16(std::string_view b, std::size_t i) {
  return byteAt(b, i) << 8 | byteAt(b, i + 1);
}
std::uint32_t le16(std::string_view b, std::size_t i) {
  return byteAt(b, i + 1) << 8 | byteAt(b, i);
}
std::uint32_t be32(std::string_view b, std::size_t i) {
  return be16(b, i) << 16 | be16(b, i + 2);
}
std::uint32_t le32(std::string_view b, std::size_t i) {
  return le16(b, i + 2) << 16 | le16(b, i);
}
std::uint32_t le24(std::string_view b, std::size_t i) {
  return byteAt(b, i + 2) << 16 | byteAt(b, i + 1) << 8 | byteAt(b, i);
}

std::optional<ImageSize> png(std::string_view b) {
  // Signature, then the IHDR chunk: length, "IHDR", width, height.
  if (b.size() < 24 || b.substr(0, 8) != "\x89PNG\r\n\x1a\n" || b.substr(12, 4) != "IHDR")
    return std::nullopt;
  return ImageSize{be32(b, 16), be32(b, 20)};
}

std::optional<ImageSize> jpeg(std::string_view b) {
  if (b.size() < 4 || byteAt(b, 0) != 0xFF || byteAt(b, 1) != 0xD8) return std::nullopt;
  std::size_t at = 2;
  while (at + 4 <= b.size()) {
    if (byteAt(b, at) != 0xFF) return std::nullopt;
    const std::uint32_t marker = byteAt(b, at + 1);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      at += 2;
      continue;
    }
    const std::uint32_t length = be16(b, at + 2);
    if (length < 2) return std::nullopt;
    // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC).
    const bool frame =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      if (at + 9 > b.size()) return std::nullopt;
      return ImageSize{be16(b, at + 7), be16(b, at + 5)};
    }
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // scan data before any frame
    at += 2 + length;
  }
  return std::nullopt;
}

std::optional<ImageSize> bmp(std::string_view b) {
  if (b.size() < 26 || b.substr(0, 2) != "BM") return std::nullopt;
  if (le32(b, 14) == 12) return ImageSize{le16(b, 18), le16(b, 20)};  // BITMAPCOREHEADER
  // Height is negative for top-down bitmaps.
  const auto magnitude = [](std::uint32_t v) {
    const auto value = static_cast<std::int64_t>(static_cast<std::int32_t>(v));
    return value < 0 ? -value : value;
  };
  return ImageSize{magnitude(le32(b, 18)), magnitude(le32(b, 22))};
}

std::optional<ImageSize> webp(std::string_view b) {
  if (b.size() < 30 || b.substr(0, 4) != "RIFF" || b.substr(8, 4) != "WEBP") return std::nullopt;
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8X") return ImageSize{le24(b, 24) + 1, le24(b, 27) + 1};
  if (chunk == "VP8 ") return ImageSize{le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF};
  if (chunk == "VP8L" && byteAt(b, 20) == 0x2F) {
    const std::uint32_t bits = le32(b, 21);
    return ImageSize{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
  }
  return std::nullopt;
}

std::optional<ImageSize> tiff(std::string_view b) {
  if (b.size() < 8) return std::nullopt;
  const bool little = b.substr(0, 4) == std::string_view("II*\0", 4);
  const bool big = b.substr(0, 4) == std::string_view("MM\0*", 4);
  if (!little && !big) return std::nullopt;
  const auto u16 = [&](std::size_t i) { return little ? le16(b, i) : be16(b, i); };
  const auto u32 = [&](std::size_t i) { return little ? le32(b, i) : be32(b, i); };
  const std::size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return std::nullopt;
  const std::size_t entries = u16(ifd);
  ImageSize size;
  for (std::size_t e = 0; e < entries; ++e) {
    const std::size_t at = ifd + 2 + 12 * e;
    if (at + 12 > b.size()) return std::nullopt;
    const std::uint32_t tag = u16(at), type = u16(at + 2);
    if (tag != 256 && tag != 257) continue;  // ImageWidth, ImageLength
    const std::int64_t value = type == 3 ? u16(at + 8) : type == 4 ? u32(at + 8) : -1;
    if (value < 0) return std::nullopt;
    (tag == 256 ? size.width : size.height) = value;
  }
  if (size.width == 0 || size.height == 0) return std::nullopt;
  return size;
}

// PNM (P1-P6) and PFM (PF, Pf): the magic, then width and height in ASCII, with # comments.
std::optional<ImageSize> netpbm(std::string_view b) {
  if (b.size() < 3 || b[0] != 'P') return std::nullopt;
  const char kind = b[1];
  if (!((kind >= '1' && kind <= '6') || kind == 'F' || kind == 'f')) return std::nullopt;
  std::size_t at = 2;
  const auto number = [&]() -> std::optional<std::int64_t> {
    while (at < b.size()) {
      if (b[at] == '#') {
        while (at < b.size() && b[at] != '\n')
          ++at;
      } else if (std::isspace(static_cast<unsigned char>(b[at]))) {
        ++at;
      } else {
        break;
      }
    }
    std::int64_t value = 0;
    std::size_t digits = 0;
    for (; at < b.size() && std::isdigit(static_cast<unsigned char>(b[at])) && digits < 12;
         ++at, ++digits)
      value = value * 10 + (b[at] - '0');
    if (digits == 0) return std::nullopt;
    return value;
  };
  const auto width = number();
  const auto height = number();
  if (!width || !height) return std::nullopt;
  return ImageSize{*width, *height};
}

}  // namespace

std::optional<ImageSize> readImageSize(std::string_view bytes) {
  for (const auto reader : {png, jpeg, bmp, webp, tiff, netpbm})
    if (auto size = reader(bytes)) return size;
  return std::nullopt;
}

}  // namespace syncbn::data
