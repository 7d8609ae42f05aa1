#include "train/bn_stats_message.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "nn/bn_statistics_probe.h"

namespace syncbn::train {
namespace {

// 6 significant digits: what a plot or a table shows, and about half the characters of a
// double's shortest exact form.
double rounded(double value) {
  if (!std::isfinite(value) || value == 0) return value;
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 6);
  double out = value;
  std::from_chars(text, end.ptr, out);  // locale-independent, unlike printf and strtod
  return out;
}

std::vector<double> rounded(const std::vector<double>& values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (const double v : values)
    out.push_back(rounded(v));
  return out;
}

// NaN (a layer without running statistics) is left out.
double median(std::vector<double> values) {
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return 0;
  const std::size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle),
                   values.end());
  const double upper = values[middle];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle));
  return (lower + upper) / 2;
}

// NaN (a layer without running statistics) never counts as the largest.
double largest(const std::vector<double>& values) {
  double best = 0;
  for (const double v : values)
    if (v > best) best = v;
  return best;
}

}  // namespace

protocol::BnStats makeBnStatsMessage(long long iteration,
                                     const std::vector<nn::LayerStatistics>& layers,
                                     int maxValues) {
  protocol::BnStats message;
  message.iteration = iteration;
  message.layers_total = static_cast<int>(layers.size());
  if (layers.empty()) return message;

  const std::size_t ranks = layers.front().rankMean.size();
  std::vector<double> disagreement, noise;
  for (const auto& layer : layers) {
    disagreement.push_back(layer.disagreement);
    noise.push_back(layer.noise);
  }
  message.disagreement_max = rounded(largest(disagreement));
  message.disagreement_median = rounded(median(disagreement));
  message.noise_max = rounded(largest(noise));
  message.noise_median = rounded(median(noise));
  std::size_t worst = 0;
  for (std::size_t i = 1; i < layers.size(); ++i)
    if (noise[i] > noise[worst] || std::isnan(noise[worst])) worst = i;
  message.worst_layer = layers[worst].layer;

  message.rank_images.assign(ranks, 0);
  for (const auto& layer : layers)
    for (std::size_t r = 0; r < ranks && r < layer.rankImages.size(); ++r)
      message.rank_images[r] =
          std::max(message.rank_images[r], static_cast<int>(layer.rankImages[r]));

  // Which layers to list: all, or the noisiest, kept in model order.
  std::vector<std::size_t> order(layers.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const std::size_t perRank = std::max<std::size_t>(ranks, 1);
  if (layers.size() * perRank > static_cast<std::size_t>(maxValues)) {
    const std::size_t keep = std::min(
        layers.size(),
        std::max<std::size_t>(kBnStatsMinLayers, static_cast<std::size_t>(maxValues) / perRank));
    const auto noisier = [&](std::size_t a, std::size_t b) {
      const double na = std::isnan(noise[a]) ? -1 : noise[a];
      const double nb = std::isnan(noise[b]) ? -1 : noise[b];
      return na != nb ? na > nb : a < b;
    };
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      noisier);
    order.resize(keep);
    std::sort(order.begin(), order.end());
  }
  for (const std::size_t i : order) {
    const nn::LayerStatistics& l = layers[i];
    message.layers.push_back({.layer = l.layer,
                              .divergence = rounded(l.divergence),
                              .rank_mean = rounded(l.rankMean),
                              .rank_var = rounded(l.rankVar),
                              .disagreement = rounded(l.disagreement),
                              .noise = rounded(l.noise),
                              .rank_noise = rounded(l.rankNoise),
                              .rank_running_mean = rounded(l.rankRunningMean),
                              .rank_running_var = rounded(l.rankRunningVar)});
  }
  return message;
}

}  // namespace syncbn::train
