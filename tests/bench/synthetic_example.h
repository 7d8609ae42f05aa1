// The benchmarks' synthetic detection data: cheap to make, the same on every machine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "data/portable_random.h"
#include "data/training_example.h"

namespace syncbn::bench {

// imgsz x imgsz RGB noise with three filled rectangles of random colour; the labels are the
// rectangles (class 0..2, normalised cx cy w h). A function of (index, epoch) only.
inline data::TrainingExample syntheticExample(std::size_t index, int epoch, int imgsz) {
  const std::uint64_t seed = data::splitmix64(static_cast<std::uint64_t>(index) * 0x100000001B3ull ^
                                              static_cast<std::uint64_t>(epoch));
  data::TrainingExample example;
  example.index = index;
  example.height = example.width = imgsz;
  example.originalHeight = example.originalWidth = imgsz;
  const std::size_t bytes = static_cast<std::size_t>(imgsz) * static_cast<std::size_t>(imgsz) * 3;
  example.rgb.resize(bytes);
  data::SplitMix64 noise(seed);
  for (std::size_t i = 0; i < bytes; i += 8) {
    const std::uint64_t draw = noise();
    std::memcpy(example.rgb.data() + i, &draw, std::min<std::size_t>(8, bytes - i));
  }
  data::PortableRandom random(seed ^ 0xD1B54A32D192ED03ull);
  for (int k = 0; k < 3; ++k) {
    const int w = random.between(imgsz / 8, imgsz / 2);
    const int h = random.between(imgsz / 8, imgsz / 2);
    const int x0 = random.between(0, imgsz - w);
    const int y0 = random.between(0, imgsz - h);
    const std::uint8_t colour[3] = {static_cast<std::uint8_t>(random.below(256)),
                                    static_cast<std::uint8_t>(random.below(256)),
                                    static_cast<std::uint8_t>(random.below(256))};
    for (int y = y0; y < y0 + h; ++y)
      for (int x = x0; x < x0 + w; ++x)
        std::memcpy(example.rgb.data() + (static_cast<std::size_t>(y) * imgsz + x) * 3, colour, 3);
    const float side = static_cast<float>(imgsz);
    example.labels.push_back({random.between(0, 2), (x0 + w / 2.0f) / side, (y0 + h / 2.0f) / side,
                              static_cast<float>(w) / side, static_cast<float>(h) / side});
  }
  return example;
}

}  // namespace syncbn::bench
