// The YOLOv8 detector built from a ModelDefinition: layers "model.0".."model.<L-1>" as in
// Ultralytics, the last one Detect.
//   forwardLevels: raw per-level maps for the loss (any mode; head_layout.h documents them);
//   predict:       decoded [N, 4 + nc, A] for inference and validation.
// Whether norms use batch or running statistics follows train()/eval() as usual.
#pragma once

#include <c10/core/MemoryFormat.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>
#include <vector>

#include "model/head_layout.h"
#include "model/model_definition.h"
#include "model/yolo_modules.h"

namespace syncbn::model {

class DetectionModelImpl : public torch::nn::Module {
 public:
  explicit DetectionModelImpl(ModelDefinition definition, const NormChoice& norm = {});

  // images: [N, 3, H, W], H and W multiples of the largest stride (32)
  //   -> per level l: [N, 4*regMax + nc, H/stride_l, W/stride_l]
  std::vector<at::Tensor> forwardLevels(const at::Tensor& images);

  // images: [N, 3, H, W] -> [N, 4 + nc, A]: (cx, cy, w, h) in input pixels, class scores in [0, 1]
  at::Tensor predict(const at::Tensor& images);

  // forwardLevels' output -> predict's (validation computes the loss and the boxes from one pass).
  at::Tensor decode(const std::vector<at::Tensor>& levels) const;

  // Stores every 4-D parameter and buffer (the convolutions' weights) in `format`, and from then
  // on gives the layers their input in it too: forwardLevels converts images that come in
  // another layout. Channels-last (NHWC) is oneDNN's own layout for CPU convolutions; NCHW
  // tensors cost a reorder into it and back around every convolution (docs/benchmarks.md,
  // "Channels-last and ATen's AVX-512 kernels"). Call it before anything copies the parameters
  // (optimizer, EMA).
  void setMemoryFormat(c10::MemoryFormat format);
  c10::MemoryFormat memoryFormat() const { return memoryFormat_; }

  const HeadLayout& headLayout() const { return detect_->layout(); }
  const ModelDefinition& definition() const { return definition_; }

  // Layer i's module, registered as "model.<i>"; definition().layers[i] describes it.
  std::size_t layerCount() const { return layers_->size(); }
  std::shared_ptr<torch::nn::Module> layer(std::size_t index) const { return layers_->ptr(index); }
  Detect detect() const { return detect_; }

 private:
  at::Tensor runLayer(std::size_t index, const std::vector<at::Tensor>& inputs) const;

  ModelDefinition definition_;
  torch::nn::ModuleList layers_{nullptr};
  Detect detect_{nullptr};
  std::vector<int> lastUse_;  // per layer output: the last layer that reads it
  c10::MemoryFormat memoryFormat_ = c10::MemoryFormat::Contiguous;
};
TORCH_MODULE(DetectionModel);

// loadModelDefinition + construction: `model` is "yolov8n.yaml", "n", or a model YAML path.
DetectionModel buildDetectionModel(const std::string& model, const std::string& scale = "",
                                   std::optional<int64_t> nc = std::nullopt,
                                   const NormChoice& norm = {});

}  // namespace syncbn::model
