#include "model/head_layout.h"

#include <torch/torch.h>

#include <stdexcept>

namespace syncbn::model {

using torch::Tensor;

AnchorGrid makeAnchors(const std::vector<Tensor>& levels, const std::vector<int64_t>& strides,
                       double offset) {
  if (levels.empty() || levels.size() != strides.size())
    throw std::invalid_argument("makeAnchors: need one stride per level");
  std::vector<Tensor> points, strideColumns;
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const auto h = levels[l].size(2), w = levels[l].size(3);
    const auto options = levels[l].options().requires_grad(false);
    const Tensor xs = torch::arange(w, options) + offset;
    const Tensor ys = torch::arange(h, options) + offset;
    const auto grid = torch::meshgrid({ys, xs}, "ij");
    points.push_back(torch::stack({grid[1], grid[0]}, -1).view({-1, 2}));
    strideColumns.push_back(torch::full({h * w, 1}, static_cast<double>(strides[l]), options));
  }
  return {torch::cat(points), torch::cat(strideColumns)};
}

Tensor flattenLevels(const std::vector<Tensor>& levels) {
  std::vector<Tensor> flat;
  flat.reserve(levels.size());
  for (const Tensor& level : levels)
    flat.push_back(level.flatten(2));
  return torch::cat(flat, 2);
}

Tensor expectedDistances(const Tensor& boxDistributions, int64_t regMax) {
  const auto n = boxDistributions.size(0), anchors = boxDistributions.size(2);
  const Tensor bins = torch::arange(regMax, boxDistributions.options().requires_grad(false));
  // [N, 4, regMax, A]: softmax over the bins of each side.
  const Tensor probabilities = boxDistributions.view({n, 4, regMax, anchors}).softmax(2);
  return (probabilities * bins.view({1, 1, regMax, 1})).sum(2);
}

Tensor distancesToBoxes(const Tensor& distances, const Tensor& points, bool xywh) {
  const Tensor topLeft = points - distances.narrow(-1, 0, 2);
  const Tensor bottomRight = points + distances.narrow(-1, 2, 2);
  if (xywh) return torch::cat({(topLeft + bottomRight) / 2, bottomRight - topLeft}, -1);
  return torch::cat({topLeft, bottomRight}, -1);
}

Tensor boxesToDistances(const Tensor& points, const Tensor& xyxy, double maxDistance) {
  return torch::cat({points - xyxy.narrow(-1, 0, 2), xyxy.narrow(-1, 2, 2) - points}, -1)
      .clamp(0, maxDistance);
}

}  // namespace syncbn::model
