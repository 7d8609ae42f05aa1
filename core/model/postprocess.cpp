#include "model/postprocess.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

#include "model/boxes.h"

namespace syncbn::model {
namespace {

using torch::Tensor;

std::string shapeOf(const Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void checkOptions(const NmsOptions& options) {
  if (!(options.iouThreshold >= 0 && options.iouThreshold <= 1))
    throw std::invalid_argument("NMS: iouThreshold must lie in [0, 1], got " +
                                std::to_string(options.iouThreshold));
  if (options.maxDet < 0)
    throw std::invalid_argument("NMS: maxDet must be >= 0, got " + std::to_string(options.maxDet));
  if (options.maxNms <= 0)
    throw std::invalid_argument("NMS: maxNms must be > 0, got " + std::to_string(options.maxNms));
  if (!(options.maxWh > 0))
    throw std::invalid_argument("NMS: maxWh must be > 0, got " + std::to_string(options.maxWh));
}

// One image: rows [A, 4 + nc] -> [K, 6].
Tensor suppressImage(const Tensor& rows, int64_t nc, const NmsOptions& options) {
  const auto floatOptions = rows.options();
  const Tensor scores = rows.narrow(1, 4, nc);
  const Tensor xyxy = xywhToXyxy(rows.narrow(1, 0, 4));

  Tensor boxes, conf, cls;
  if (options.multiLabel && nc > 1) {
    // Row-major (anchor, class) order, as torch.where gives it.
    const Tensor pairs = (scores > options.confThreshold).nonzero();
    const Tensor anchor = pairs.select(1, 0), classIndex = pairs.select(1, 1);
    boxes = xyxy.index_select(0, anchor);
    conf = scores.index({anchor, classIndex});
    cls = classIndex.to(floatOptions.dtype());
  } else {
    auto [best, bestClass] = scores.max(1);
    const Tensor keep = (best > options.confThreshold).nonzero().squeeze(1);
    boxes = xyxy.index_select(0, keep);
    conf = best.index_select(0, keep);
    cls = bestClass.index_select(0, keep).to(floatOptions.dtype());
  }
  if (conf.size(0) > options.maxNms) {
    const Tensor top = std::get<1>(conf.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true))
                           .narrow(0, 0, options.maxNms);
    boxes = boxes.index_select(0, top);
    conf = conf.index_select(0, top);
    cls = cls.index_select(0, top);
  }
  // Class-aware NMS in one pass: each class is moved maxWh * cls away, so boxes of different
  // classes never overlap.
  const Tensor offsets = options.agnostic ? torch::zeros_like(cls) : cls * options.maxWh;
  const Tensor kept =
      greedyNms(boxes + offsets.unsqueeze(1), conf, options.iouThreshold, options.maxDet);
  return torch::cat({boxes.index_select(0, kept), conf.index_select(0, kept).unsqueeze(1),
                     cls.index_select(0, kept).unsqueeze(1)},
                    1);
}

}  // namespace

namespace {

// The greedy loop over plain arrays. Written here because LibTorch has no NMS (torchvision's
// kernel is not in Debian's LibTorch), and the loop as tensor operations costs some ten small
// operations per kept box: 300 kept boxes made that 30 ms per image. Each IoU is computed as
// boxIou computes it (the same operations in the same order), so the decisions are the same.
// At most maxKeep boxes are kept, and each suppresses among the later ones: the work is bounded
// by maxKeep x n IoUs, whatever the scores.
template <typename T>
std::vector<int64_t> greedyKeep(const Tensor& sortedBoxes, double iouThreshold, int64_t maxKeep) {
  const int64_t n = sortedBoxes.size(0);
  const Tensor dense = sortedBoxes.contiguous();
  const T* box = dense.data_ptr<T>();
  std::vector<T> area(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const T* b = box + 4 * i;
    area[static_cast<std::size_t>(i)] =
        std::max<T>(b[2] - b[0], T(0)) * std::max<T>(b[3] - b[1], T(0));
  }
  const T threshold = static_cast<T>(iouThreshold);
  const T tiny = static_cast<T>(1e-12);
  std::vector<char> suppressed(static_cast<std::size_t>(n), 0);
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n && static_cast<int64_t>(kept.size()) < maxKeep; ++i) {
    if (suppressed[static_cast<std::size_t>(i)]) continue;
    kept.push_back(i);
    const T* a = box + 4 * i;
    const T areaA = area[static_cast<std::size_t>(i)];
    for (int64_t j = i + 1; j < n; ++j) {
      if (suppressed[static_cast<std::size_t>(j)]) continue;
      const T* b = box + 4 * j;
      const T w = std::max<T>(std::min(a[2], b[2]) - std::max(a[0], b[0]), T(0));
      const T h = std::max<T>(std::min(a[3], b[3]) - std::max(a[1], b[1]), T(0));
      const T inter = w * h;
      const T unionArea = areaA + area[static_cast<std::size_t>(j)] - inter;
      const T iou = unionArea > 0 ? inter / std::max(unionArea, tiny) : T(0);
      if (iou > threshold) suppressed[static_cast<std::size_t>(j)] = 1;
    }
  }
  return kept;
}

}  // namespace

Tensor greedyNms(const Tensor& boxes, const Tensor& scores, double iouThreshold, int64_t maxKeep) {
  if (boxes.dim() != 2 || boxes.size(1) != 4)
    throw std::invalid_argument("greedyNms: boxes must be [n, 4], got " + shapeOf(boxes));
  if (scores.dim() != 1 || scores.size(0) != boxes.size(0))
    throw std::invalid_argument("greedyNms: scores must be [" + std::to_string(boxes.size(0)) +
                                "], got " + shapeOf(scores));
  const auto indexOptions = torch::TensorOptions().dtype(torch::kLong).device(boxes.device());
  if (boxes.size(0) == 0 || maxKeep <= 0) return torch::empty({0}, indexOptions);

  // Boxes in score order (stable: ties keep input order), on the CPU (a few thousand boxes at
  // most: maxNms), in float32 or float64 as given.
  const Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const auto dtype = boxes.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  const Tensor sorted = boxes.index_select(0, order).to(torch::kCPU, dtype);
  const std::vector<int64_t> kept = dtype == torch::kDouble
                                        ? greedyKeep<double>(sorted, iouThreshold, maxKeep)
                                        : greedyKeep<float>(sorted, iouThreshold, maxKeep);
  const Tensor positions = torch::tensor(kept, torch::kLong).to(boxes.device());
  return order.index_select(0, positions);
}

std::vector<Tensor> nonMaxSuppression(const Tensor& prediction, const NmsOptions& options) {
  if (prediction.dim() != 3 || prediction.size(1) < 5)
    throw std::invalid_argument(
        "nonMaxSuppression: prediction must be [N, 4 + nc, A] with nc >= 1, got " +
        shapeOf(prediction));
  checkOptions(options);
  const int64_t nc = prediction.size(1) - 4;
  // Half precision cannot hold maxWh * cls offsets to a pixel: work in float32 at least.
  const auto dtype = prediction.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  torch::NoGradGuard noGrad;
  const Tensor rows = prediction.detach().to(dtype).transpose(1, 2);  // [N, A, 4 + nc]
  std::vector<Tensor> out;
  out.reserve(static_cast<size_t>(rows.size(0)));
  for (int64_t i = 0; i < rows.size(0); ++i)
    out.push_back(suppressImage(rows[i], nc, options));
  return out;
}

Letterbox letterboxGeometry(ImageSize original, ImageSize input, bool scaleUp) {
  if (original.height <= 0 || original.width <= 0 || input.height <= 0 || input.width <= 0)
    throw std::invalid_argument("letterboxGeometry: sizes must be positive, got original " +
                                std::to_string(original.height) + "x" +
                                std::to_string(original.width) + ", input " +
                                std::to_string(input.height) + "x" + std::to_string(input.width));
  Letterbox box;
  box.original = original;
  box.input = input;
  box.ratio = std::min(static_cast<double>(input.height) / static_cast<double>(original.height),
                       static_cast<double>(input.width) / static_cast<double>(original.width));
  if (!scaleUp) box.ratio = std::min(box.ratio, 1.0);
  // std::nearbyint rounds half to even under the default rounding mode, like Python's round().
  const double unpaddedW = std::nearbyint(static_cast<double>(original.width) * box.ratio);
  const double unpaddedH = std::nearbyint(static_cast<double>(original.height) * box.ratio);
  box.padX = std::nearbyint((static_cast<double>(input.width) - unpaddedW) / 2 - 0.1);
  box.padY = std::nearbyint((static_cast<double>(input.height) - unpaddedH) / 2 - 0.1);
  return box;
}

namespace {

void checkBoxes(const Tensor& xyxy, const char* what) {
  if (xyxy.dim() < 1 || xyxy.size(-1) != 4)
    throw std::invalid_argument(std::string(what) + ": boxes must be [..., 4], got " +
                                shapeOf(xyxy));
}

Tensor padTensor(const Tensor& like, const Letterbox& letterbox) {
  return torch::tensor({letterbox.padX, letterbox.padY, letterbox.padX, letterbox.padY},
                       torch::TensorOptions().dtype(torch::kDouble))
      .to(like.options());
}

}  // namespace

Tensor boxesToOriginal(const Tensor& xyxy, const Letterbox& letterbox) {
  checkBoxes(xyxy, "boxesToOriginal");
  const Tensor boxes = (xyxy - padTensor(xyxy, letterbox)) / letterbox.ratio;
  const auto w = static_cast<double>(letterbox.original.width);
  const auto h = static_cast<double>(letterbox.original.height);
  return torch::stack({boxes.select(-1, 0).clamp(0, w), boxes.select(-1, 1).clamp(0, h),
                       boxes.select(-1, 2).clamp(0, w), boxes.select(-1, 3).clamp(0, h)},
                      -1);
}

Tensor boxesToInput(const Tensor& xyxy, const Letterbox& letterbox) {
  checkBoxes(xyxy, "boxesToInput");
  return xyxy * letterbox.ratio + padTensor(xyxy, letterbox);
}

}  // namespace syncbn::model
