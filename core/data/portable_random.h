// Random numbers that are the same on every platform and standard library: the engines' outputs
// are fixed by their definitions, while <random>'s distributions are not. Every seeded choice in
// core/data (augmentation, the demo dataset, the sampler's shuffle) draws from here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

namespace syncbn::data {

// splitmix64's output for state x (Steele, Lea, Flood 2014); also a good 64-bit mixing function.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The splitmix64 generator: full period, one addition and one mix per draw.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t operator()() {
    const std::uint64_t draw = splitmix64(state_);
    state_ += 0x9E3779B97F4A7C15ull;
    return draw;
  }

 private:
  std::uint64_t state_;
};

// Uniform numbers from std::mt19937_64's raw 64-bit draws.
class PortableRandom {
 public:
  explicit PortableRandom(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t bits() { return engine_(); }
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  template <class Integer>
  Integer below(Integer n) {  // [0, n), n > 0
    return std::min<Integer>(n - 1, static_cast<Integer>(uniform() * static_cast<double>(n)));
  }
  int between(int lo, int hi) { return lo + below(hi - lo + 1); }  // [lo, hi]

 private:
  std::mt19937_64 engine_;
};

}  // namespace syncbn::data
