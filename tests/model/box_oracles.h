// Scalar reference formulas for the loss and assigner tests, written from the papers'
// definitions and independent of core/model.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>

namespace syncbn::model::oracle {

struct Box {
  double x1, y1, x2, y2;
};

inline double iou(const Box& a, const Box& b) {
  const double inter = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1)) *
                       std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double areaA = (a.x2 - a.x1) * (a.y2 - a.y1), areaB = (b.x2 - b.x1) * (b.y2 - b.y1);
  return inter / (areaA + areaB - inter);
}

// CIoU = IoU - rho^2 / c^2 - alpha v, v = 4/pi^2 (atan(w_b/h_b) - atan(w_a/h_a))^2,
// alpha = v / (1 - IoU + v).
inline double ciou(const Box& a, const Box& b) {
  const double u = iou(a, b);
  const double cw = std::max(a.x2, b.x2) - std::min(a.x1, b.x1);
  const double ch = std::max(a.y2, b.y2) - std::min(a.y1, b.y1);
  const double dx = (a.x1 + a.x2 - b.x1 - b.x2) / 2, dy = (a.y1 + a.y2 - b.y1 - b.y2) / 2;
  const double v =
      4 / (std::numbers::pi * std::numbers::pi) *
      std::pow(std::atan((b.x2 - b.x1) / (b.y2 - b.y1)) - std::atan((a.x2 - a.x1) / (a.y2 - a.y1)),
               2);
  const double alpha = v == 0 ? 0 : v / (1 - u + v);
  return u - (dx * dx + dy * dy) / (cw * cw + ch * ch) - alpha * v;
}

inline double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

// -[y log s(x) + (1 - y) log(1 - s(x))], with 1 - s(x) written as s(-x).
inline double bceWithLogits(double x, double y) {
  return -(y * std::log(sigmoid(x)) + (1 - y) * std::log(sigmoid(-x)));
}

}  // namespace syncbn::model::oracle
