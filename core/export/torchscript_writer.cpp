// TorchScript from generated source: one line per graph operation, calling the same ATen
// functions the engine's modules call, and a decode that repeats the engine's own arithmetic
// (model/head_layout.cpp) so the two agree to float rounding.
#include <torch/script.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "export/export_formats.h"

namespace syncbn::exporter {
namespace {

std::string value(int id) {
  return id == 0 ? "images" : "v" + std::to_string(id);
}

std::string list(const std::vector<int>& ids) {
  std::string text = "[";
  for (std::size_t i = 0; i < ids.size(); ++i)
    text += (i ? ", " : "") + value(ids[i]);
  return text + "]";
}

std::string pair(int64_t v) {
  return "[" + std::to_string(v) + ", " + std::to_string(v) + "]";
}

// A weight as the forward uses it: float16 ones are cast to the input's dtype.
std::string weight(const std::string& name, bool half) {
  return half ? "self." + name + ".to(images.dtype)" : "self." + name;
}

void writeDecode(std::ostringstream& src, const InferenceGraph& graph, const Op& detect) {
  const DetectLayout& d = graph.detect;
  const int64_t no = 4 * d.regMax + d.nc;
  src << "        n = images.size(0)\n";
  src << "        flat = torch.cat([";
  for (std::size_t l = 0; l < detect.inputs.size(); ++l)
    src << (l ? ", " : "") << value(detect.inputs[l]) << ".view(n, " << no << ", -1)";
  src << "], 2)\n";
  // makeAnchors: cell centres (x + 0.5, y + 0.5) per level, each anchor's stride.
  src << "        points: List[Tensor] = []\n        strides: List[Tensor] = []\n";
  for (std::size_t l = 0; l < detect.inputs.size(); ++l) {
    const std::string v = value(detect.inputs[l]);
    src << "        h = " << v << ".size(2)\n        w = " << v << ".size(3)\n";
    src << "        xs = torch.arange(w, dtype=flat.dtype, device=flat.device) + 0.5\n";
    src << "        ys = torch.arange(h, dtype=flat.dtype, device=flat.device) + 0.5\n";
    src << "        grid = torch.meshgrid([ys, xs], indexing=\"ij\")\n";
    src << "        points.append(torch.stack([grid[1], grid[0]], -1).view(-1, 2))\n";
    src << "        strides.append(torch.full([h * w, 1], " << d.strides[l]
        << ".0, dtype=flat.dtype, device=flat.device))\n";
  }
  src << "        anchor_points = torch.cat(points)\n        anchor_strides = torch.cat(strides)\n";
  // expectedDistances: softmax over each side's bins, then their expectation.
  const int64_t boxChannels = 4 * d.regMax;
  src << "        anchors = flat.size(2)\n";
  src << "        bins = torch.arange(" << d.regMax << ", dtype=flat.dtype, device=flat.device)\n";
  src << "        p = flat.narrow(1, 0, " << boxChannels << ").view(n, 4, " << d.regMax
      << ", anchors).softmax(2)\n";
  src << "        distances = (p * bins.view(1, 1, " << d.regMax
      << ", 1)).sum(2).transpose(1, 2)\n";
  // distancesToBoxes (xywh), in input pixels.
  src << "        top_left = anchor_points - distances.narrow(-1, 0, 2)\n";
  src << "        bottom_right = anchor_points + distances.narrow(-1, 2, 2)\n";
  src << "        boxes = torch.cat([(top_left + bottom_right) / 2, bottom_right - top_left], -1)"
         " * anchor_strides\n";
  src << "        return torch.cat([boxes.transpose(1, 2), flat.narrow(1, " << boxChannels << ", "
      << d.nc << ").sigmoid()], 1)\n";
}

}  // namespace

std::string torchScriptSource(const InferenceGraph& graph, const TorchScriptOptions& options) {
  std::ostringstream src;
  src << "def forward(self, images: Tensor) -> Tensor:\n";
  for (std::size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    const std::string out = op.outputs.empty() ? "" : value(op.outputs.front());
    const std::string in = op.inputs.empty() ? "" : value(op.inputs.front());
    const std::string id = std::to_string(i);
    src << "        ";
    switch (op.kind) {
      case OpKind::Conv:
        src << out << " = torch.conv2d(" << in << ", " << weight("w" + id, options.half) << ", "
            << (op.bias.defined() ? weight("b" + id, options.half) : "None") << ", "
            << pair(op.stride) << ", " << pair(op.pad) << ", [1, 1], 1)\n";
        break;
      case OpKind::GroupNorm:
        src << out << " = torch.group_norm(" << in << ", " << op.groups << ", "
            << weight("w" + id, options.half) << ", " << weight("b" + id, options.half) << ", "
            << op.eps << ", False)\n";
        break;
      case OpKind::SiLU:
        src << out << " = torch.silu(" << in << ")\n";
        break;
      case OpKind::Add:
        src << out << " = " << in << " + " << value(op.inputs[1]) << "\n";
        break;
      case OpKind::Concat:
        src << out << " = torch.cat(" << list(op.inputs) << ", 1)\n";
        break;
      case OpKind::Split: {
        src << "parts = torch.split_with_sizes(" << in << ", [";
        for (std::size_t k = 0; k < op.sizes.size(); ++k)
          src << (k ? ", " : "") << op.sizes[k];
        src << "], 1)\n";
        for (std::size_t k = 0; k < op.outputs.size(); ++k)
          src << "        " << value(op.outputs[k]) << " = parts[" << k << "]\n";
        break;
      }
      case OpKind::MaxPool:
        src << out << " = torch.max_pool2d(" << in << ", " << pair(op.kernel) << ", [1, 1], "
            << pair(op.pad) << ", [1, 1], False)\n";
        break;
      case OpKind::Upsample:
        src << out << " = torch.upsample_nearest2d(" << in << ", None, [" << op.scale << ".0, "
            << op.scale << ".0])\n";
        break;
      case OpKind::Detect:
        src << "pass\n";
        writeDecode(src, graph, op);
        break;
    }
  }
  return src.str();
}

std::string torchScriptBytes(const InferenceGraph& graph, const ExportMetadata& metadata,
                             const TorchScriptOptions& options) {
  torch::jit::Module module("SyncBNDetector");
  for (std::size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    const auto store = [&](const std::string& name, const at::Tensor& tensor) {
      if (tensor.defined())
        module.register_buffer(name, options.half ? tensor.to(torch::kFloat16) : tensor);
    };
    store("w" + std::to_string(i), op.weight);
    store("b" + std::to_string(i), op.bias);
  }
  module.define(torchScriptSource(graph, options));
  module.eval();

  nlohmann::json names = nlohmann::json::object();
  for (std::size_t c = 0; c < metadata.names.size(); ++c)
    names[std::to_string(c)] = metadata.names[c];
  nlohmann::json config = {{"description", metadata.description},
                           {"author", "SyncBN Studio"},
                           {"date", metadata.date},
                           {"version", metadata.engineVersion},
                           {"task", "detect"},
                           {"stride", metadata.stride},
                           {"batch", metadata.batch},
                           {"imgsz", {metadata.imgsz, metadata.imgsz}},
                           {"half", options.half},
                           {"names", names},
                           {"weights", metadata.sourceWeights}};
  torch::jit::ExtraFilesMap extra{{"names", names.dump()}, {"config.txt", config.dump()}};
  std::ostringstream bytes;
  module.save(bytes, extra);
  return bytes.str();
}

}  // namespace syncbn::exporter
