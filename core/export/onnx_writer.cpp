// ONNX through Debian's ONNX protobuf library. Written for the loader users have, OpenCV 4.6 DNN,
// around its known traps (each has a test in tests/export):
//   - from opset 13 Split takes its sizes as an input that OpenCV 4.6 ignores (it splits evenly
//     without an error): uneven splits are Slice there, and opset 12 keeps sizes as attributes;
//   - it needs kernel_shape on every Conv;
//   - it fails on Mul/Add broadcasting against [1, A] or [1, 1, A] constants, and (measured) on a
//     Mul against a full-shape [batch, 4, A] constant once batch > 1: the anchor points that are
//     added and subtracted are full-shape [batch, 2, A], the strides multiplied are [1, 4, A],
//     and the centre's 0.5 is a scalar.
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "export/export_formats.h"

namespace syncbn::exporter {
namespace {

constexpr int kLowestOpset = 12;
constexpr int kHighestOpset = 17;

std::string value(int id) {
  return id == 0 ? "images" : "v" + std::to_string(id);
}

// Builds the graph's nodes and initializers with unique names.
class OnnxGraph {
 public:
  OnnxGraph(onnx::GraphProto& graph, int opset, bool half)
      : graph_(graph), opset_(opset), half_(half) {}

  std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(next_++); }

  // A float initializer (float16 when exporting half, then cast to float32 in the graph).
  std::string floats(const std::string& name, const at::Tensor& tensor) {
    const at::Tensor dense =
        tensor.to(torch::kCPU, half_ ? torch::kFloat16 : torch::kFloat32).contiguous();
    onnx::TensorProto* init = graph_.add_initializer();
    const std::string stored = half_ ? name + "_fp16" : name;
    init->set_name(stored);
    init->set_data_type(half_ ? onnx::TensorProto::FLOAT16 : onnx::TensorProto::FLOAT);
    for (const int64_t size : dense.sizes())
      init->add_dims(size);
    init->set_raw_data(std::string(static_cast<const char*>(dense.data_ptr()),
                                   static_cast<std::size_t>(dense.nbytes())));
    if (!half_) return name;
    onnx::NodeProto* cast = node("Cast", {stored}, {name}, name + "_cast");
    attribute(cast, "to", static_cast<int64_t>(onnx::TensorProto::FLOAT));
    return name;
  }

  std::string integers(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::INT64);
    init->add_dims(static_cast<int64_t>(values.size()));
    for (const int64_t v : values)
      init->add_int64_data(v);
    return name;
  }

  std::string scalar(const std::string& name, int64_t v) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::INT64);
    init->add_int64_data(v);
    return name;
  }
  std::string floatScalar(const std::string& name, float v) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    init->add_float_data(v);
    return name;
  }

  onnx::NodeProto* node(const std::string& type, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(type);
    n->set_name(name);
    for (const auto& input : inputs)
      n->add_input(input);
    for (const auto& output : outputs)
      n->add_output(output);
    return n;
  }
  std::string unary(const std::string& type, const std::string& x, const std::string& name) {
    const std::string out = fresh(name);
    node(type, {x}, {out}, out);
    return out;
  }
  std::string binary(const std::string& type, const std::string& a, const std::string& b,
                     const std::string& name) {
    const std::string out = fresh(name);
    node(type, {a, b}, {out}, out);
    return out;
  }

  static void attribute(onnx::NodeProto* n, const std::string& name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attribute(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attribute(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attribute(onnx::NodeProto* n, const std::string& name,
                        const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (const int64_t x : v)
      a->add_ints(x);
  }

  // x split along `axis` into parts of `sizes`: Split with attribute sizes at opset 12, else an
  // even Split when the parts are equal and Slices when not (OpenCV 4.6 ignores the sizes input).
  std::vector<std::string> split(const std::string& x, const std::vector<int64_t>& sizes,
                                 int64_t axis, const std::string& name) {
    std::vector<std::string> outs;
    for (std::size_t i = 0; i < sizes.size(); ++i)
      outs.push_back(fresh(name + "_part"));
    bool even = true;
    for (const int64_t s : sizes)
      even = even && s == sizes.front();
    if (opset_ < 13) {
      onnx::NodeProto* n = node("Split", {x}, outs, fresh(name));
      attribute(n, "axis", axis);
      attribute(n, "split", sizes);
    } else if (even) {
      onnx::NodeProto* n = node("Split", {x}, outs, fresh(name));
      attribute(n, "axis", axis);
    } else {
      int64_t start = 0;
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::string base = fresh(name + "_slice");
        node("Slice",
             {x, integers(base + "_starts", {start}), integers(base + "_ends", {start + sizes[i]}),
              integers(base + "_axes", {axis})},
             {outs[i]}, base);
        start += sizes[i];
      }
    }
    return outs;
  }

 private:
  onnx::GraphProto& graph_;
  int opset_;
  bool half_;
  int next_ = 0;
};

void setShape(onnx::ValueInfoProto* info, const std::vector<std::string>& symbols,
              const std::vector<int64_t>& sizes) {
  auto* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto* dim = type->mutable_shape()->add_dim();
    if (!symbols[i].empty())
      dim->set_dim_param(symbols[i]);
    else
      dim->set_dim_value(sizes[i]);
  }
}

std::string pythonString(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// The anchors' constants for one image size: centres in grid units (x + 0.5, y + 0.5) and
// strides, in the engine's order (levels, then rows, then columns).
struct AnchorConstants {
  at::Tensor points;   // [batch, 2, A]
  at::Tensor strides;  // [1, 4, A]
};
AnchorConstants anchorConstants(const DetectLayout& detect, int64_t batch, int64_t imgsz) {
  std::vector<at::Tensor> points, strides;
  for (const int64_t stride : detect.strides) {
    const int64_t cells = imgsz / stride;
    const at::Tensor xs = torch::arange(cells, torch::kFloat32) + 0.5;
    const auto grid = torch::meshgrid({xs, xs}, "ij");
    points.push_back(torch::stack({grid[1], grid[0]}, 0).view({2, -1}));
    strides.push_back(torch::full({4, cells * cells}, static_cast<double>(stride)));
  }
  const at::Tensor p = torch::cat(points, 1).unsqueeze(0);
  const at::Tensor s = torch::cat(strides, 1).unsqueeze(0);
  return {p.expand({batch, 2, p.size(2)}).contiguous(), s.contiguous()};
}

// The anchors computed in the graph from each level's height and width (--dynamic): points
// [1, 2, A] and strides [1, 4, A], broadcast over the batch.
struct AnchorValues {
  std::string points, strides;
};
AnchorValues dynamicAnchors(OnnxGraph& g, const DetectLayout& detect,
                            const std::vector<std::string>& levels, const std::string& name) {
  std::vector<std::string> points, strides;
  const std::string zero = g.scalar(g.fresh(name + "_zero"), 0);
  const std::string one = g.scalar(g.fresh(name + "_one"), 1);
  const std::string half = g.floatScalar(g.fresh(name + "_offset"), 0.5f);
  const std::string row = g.integers(g.fresh(name + "_row"), {1, -1});
  const std::string single = g.integers(g.fresh(name + "_single"), {1});
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::string base = name + "_level" + std::to_string(l);
    const std::string shape = g.unary("Shape", levels[l], base + "_shape");
    const auto dimension = [&](int64_t index) {
      const std::string out = g.fresh(base + "_dim");
      g.node("Gather", {shape, g.scalar(g.fresh(base + "_index"), index)}, {out}, out);
      return out;
    };
    const std::string h = dimension(2), w = dimension(3);
    const auto centres = [&](const std::string& count) {
      const std::string range = g.fresh(base + "_range");
      g.node("Range", {zero, count, one}, {range}, range);
      const std::string asFloat = g.fresh(base + "_float");
      OnnxGraph::attribute(g.node("Cast", {range}, {asFloat}, asFloat), "to",
                           static_cast<int64_t>(onnx::TensorProto::FLOAT));
      return g.binary("Add", asFloat, half, base + "_centres");
    };
    const std::string xs = centres(w), ys = centres(h);
    const std::string hw = g.fresh(base + "_hw");
    OnnxGraph::attribute(g.node("Concat",
                                {g.binary("Reshape", h, single, base + "_h1"),
                                 g.binary("Reshape", w, single, base + "_w1")},
                                {hw}, hw),
                         "axis", int64_t{0});
    const std::string gx =
        g.binary("Expand", g.binary("Reshape", xs, row, base + "_xrow"), hw, base + "_gx");
    const std::string gy = g.binary(
        "Expand",
        g.binary("Reshape", ys, g.integers(g.fresh(base + "_col"), {-1, 1}), base + "_ycol"), hw,
        base + "_gy");
    const std::string level = g.fresh(base + "_points");
    OnnxGraph::attribute(g.node("Concat",
                                {g.binary("Reshape", gx, row, base + "_px"),
                                 g.binary("Reshape", gy, row, base + "_py")},
                                {level}, level),
                         "axis", int64_t{0});
    points.push_back(level);
    // [4, h * w] of this level's stride.
    const std::string cells =
        g.binary("Reshape", g.binary("Mul", h, w, base + "_cells"), single, base + "_cells1");
    const std::string extent = g.fresh(base + "_extent");
    OnnxGraph::attribute(
        g.node("Concat", {g.integers(g.fresh(base + "_four"), {4}), cells}, {extent}, extent),
        "axis", int64_t{0});
    strides.push_back(g.binary(
        "Expand",
        g.floats(base + "_stride", torch::full({1, 1}, static_cast<double>(detect.strides[l]))),
        extent, base + "_strides"));
  }
  const auto joined = [&](const std::vector<std::string>& parts, int64_t rows,
                          const std::string& what) {
    const std::string all = g.fresh(name + "_" + what);
    OnnxGraph::attribute(g.node("Concat", parts, {all}, all), "axis", int64_t{1});
    return g.binary("Reshape", all, g.integers(g.fresh(name + "_shape"), {1, rows, -1}),
                    name + "_" + what + "_batched");
  };
  return {joined(points, 2, "points"), joined(strides, 4, "strides")};
}

}  // namespace

std::map<std::string, std::string> ultralyticsMetadata(const ExportMetadata& metadata) {
  std::string names = "{";
  for (std::size_t c = 0; c < metadata.names.size(); ++c)
    names += (c ? ", " : "") + std::to_string(c) + ": " + pythonString(metadata.names[c]);
  names += "}";
  const std::string size = std::to_string(metadata.imgsz);
  return {{"description", metadata.description},
          {"author", "SyncBN Studio"},
          {"date", metadata.date},
          {"version", metadata.engineVersion},
          {"task", "detect"},
          {"stride", std::to_string(metadata.stride)},
          {"batch", std::to_string(metadata.batch)},
          {"imgsz", "[" + size + ", " + size + "]"},
          {"names", names},
          {"weights", metadata.sourceWeights}};
}

std::string onnxModelBytes(const InferenceGraph& graph, const ExportMetadata& metadata,
                           const OnnxOptions& options) {
  if (options.opset < kLowestOpset || options.opset > kHighestOpset)
    throw std::invalid_argument("--opset " + std::to_string(options.opset) +
                                ": this export writes opsets " + std::to_string(kLowestOpset) +
                                " to " + std::to_string(kHighestOpset));
  onnx::ModelProto model;
  model.set_ir_version(options.opset <= 13 ? 7 : 8);
  model.set_producer_name("syncbn-engine");
  model.set_producer_version(metadata.engineVersion);
  model.set_doc_string(metadata.description);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  for (const auto& [key, text] : ultralyticsMetadata(metadata)) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(key);
    entry->set_value(text);
  }

  onnx::GraphProto& proto = *model.mutable_graph();
  proto.set_name("syncbn_detector");
  // Reshapes keep the batch with 0 ("copy this dimension") when it is dynamic.
  const int64_t batch = options.dynamic ? 0 : metadata.batch;
  const int64_t size = metadata.imgsz;
  if (options.dynamic)
    setShape(proto.add_input(), {"batch", "", "height", "width"}, {0, graph.inputChannels, 0, 0});
  else
    setShape(proto.add_input(), {"", "", "", ""}, {batch, graph.inputChannels, size, size});
  proto.mutable_input(0)->set_name("images");
  OnnxGraph g(proto, options.opset, options.half);

  for (std::size_t i = 0; i < graph.ops.size(); ++i) {
    const Op& op = graph.ops[i];
    const std::string id = std::to_string(i);
    std::vector<std::string> in;
    for (const int v : op.inputs)
      in.push_back(value(v));
    const std::string out = op.outputs.empty() ? "" : value(op.outputs.front());
    switch (op.kind) {
      case OpKind::Conv: {
        std::vector<std::string> inputs{in[0], g.floats(op.name + ".weight", op.weight)};
        if (op.bias.defined()) inputs.push_back(g.floats(op.name + ".bias", op.bias));
        onnx::NodeProto* n = g.node("Conv", inputs, {out}, op.name);
        OnnxGraph::attribute(n, "kernel_shape", std::vector<int64_t>{op.kernel, op.kernel});
        OnnxGraph::attribute(n, "strides", std::vector<int64_t>{op.stride, op.stride});
        OnnxGraph::attribute(n, "pads", std::vector<int64_t>{op.pad, op.pad, op.pad, op.pad});
        OnnxGraph::attribute(n, "dilations", std::vector<int64_t>{1, 1});
        OnnxGraph::attribute(n, "group", int64_t{1});
        break;
      }
      case OpKind::GroupNorm: {
        // InstanceNormalization over [N, G, C/G * H * W], back to [N, C, H, W], then the affine.
        const std::string grouped = g.fresh(op.name + "_grouped");
        g.node("Reshape", {in[0], g.integers(grouped + "_shape", {0, op.groups, -1})}, {grouped},
               grouped);
        const std::string normed = g.fresh(op.name + "_normed");
        onnx::NodeProto* n = g.node("InstanceNormalization",
                                    {grouped, g.floats(normed + "_ones", torch::ones({op.groups})),
                                     g.floats(normed + "_zeros", torch::zeros({op.groups}))},
                                    {normed}, normed);
        OnnxGraph::attribute(n, "epsilon", static_cast<float>(op.eps));
        const std::string shape = g.unary("Shape", in[0], op.name + "_shape");
        const std::string back = g.binary("Reshape", normed, shape, op.name + "_back");
        const std::string scaled =
            g.binary("Mul", back, g.floats(op.name + ".weight", op.weight.view({-1, 1, 1})),
                     op.name + "_scaled");
        g.node("Add", {scaled, g.floats(op.name + ".bias", op.bias.view({-1, 1, 1}))}, {out},
               op.name);
        break;
      }
      case OpKind::SiLU: {
        const std::string gate = g.unary("Sigmoid", in[0], op.name + "_sigmoid");
        g.node("Mul", {in[0], gate}, {out}, op.name);
        break;
      }
      case OpKind::Add:
        g.node("Add", in, {out}, op.name);
        break;
      case OpKind::Concat:
        OnnxGraph::attribute(g.node("Concat", in, {out}, op.name), "axis", int64_t{1});
        break;
      case OpKind::Split: {
        const std::vector<std::string> parts = g.split(in[0], op.sizes, 1, op.name);
        for (std::size_t k = 0; k < parts.size(); ++k)
          g.node("Identity", {parts[k]}, {value(op.outputs[k])},
                 op.name + "_out" + std::to_string(k));
        break;
      }
      case OpKind::MaxPool: {
        onnx::NodeProto* n = g.node("MaxPool", in, {out}, op.name);
        OnnxGraph::attribute(n, "kernel_shape", std::vector<int64_t>{op.kernel, op.kernel});
        OnnxGraph::attribute(n, "strides", std::vector<int64_t>{1, 1});
        OnnxGraph::attribute(n, "pads", std::vector<int64_t>{op.pad, op.pad, op.pad, op.pad});
        break;
      }
      case OpKind::Upsample: {
        const auto scales = static_cast<float>(op.scale);
        const std::string roi = g.floats(op.name + "_roi", torch::zeros({0}));
        const std::string factors =
            g.floats(op.name + "_scales", torch::tensor({1.0f, 1.0f, scales, scales}));
        onnx::NodeProto* n = g.node("Resize", {in[0], roi, factors}, {out}, op.name);
        OnnxGraph::attribute(n, "mode", std::string("nearest"));
        OnnxGraph::attribute(n, "coordinate_transformation_mode", std::string("asymmetric"));
        OnnxGraph::attribute(n, "nearest_mode", std::string("floor"));
        break;
      }
      case OpKind::Detect: {
        const DetectLayout& d = graph.detect;
        const int64_t no = 4 * d.regMax + d.nc;
        std::vector<std::string> flats;
        for (const std::string& level : in)
          flats.push_back(g.binary("Reshape", level,
                                   g.integers(g.fresh("flat_shape"), {batch, no, -1}),
                                   op.name + "_flat"));
        const std::string flat = g.fresh(op.name + "_cat");
        OnnxGraph::attribute(g.node("Concat", flats, {flat}, flat), "axis", int64_t{2});
        const std::vector<std::string> boxCls =
            g.split(flat, {4 * d.regMax, d.nc}, 1, op.name + "_split");
        // DFL: softmax over each side's bins (the last axis, as opset 12's Softmax needs), then
        // their expectation as a 1x1 convolution with weights 0 .. regMax-1.
        const std::string bins = g.binary(
            "Reshape", boxCls[0], g.integers(g.fresh("bins_shape"), {batch, 4, d.regMax, -1}),
            op.name + "_bins");
        const std::string last = g.fresh(op.name + "_binslast");
        OnnxGraph::attribute(g.node("Transpose", {bins}, {last}, last), "perm",
                             std::vector<int64_t>{0, 1, 3, 2});
        const std::string soft = g.fresh(op.name + "_softmax");
        OnnxGraph::attribute(g.node("Softmax", {last}, {soft}, soft), "axis", int64_t{3});
        const std::string first = g.fresh(op.name + "_binsfirst");
        OnnxGraph::attribute(g.node("Transpose", {soft}, {first}, first), "perm",
                             std::vector<int64_t>{0, 3, 1, 2});
        const std::string expectation = g.fresh(op.name + ".dfl");
        onnx::NodeProto* dfl = g.node(
            "Conv",
            {first, g.floats(op.name + ".dfl.weight",
                             torch::arange(d.regMax, torch::kFloat32).view({1, d.regMax, 1, 1}))},
            {expectation}, expectation);
        OnnxGraph::attribute(dfl, "kernel_shape", std::vector<int64_t>{1, 1});
        const std::string distances =
            g.binary("Reshape", expectation, g.integers(g.fresh("dist_shape"), {batch, 4, -1}),
                     op.name + "_dist");
        // distancesToBoxes (xywh) * strides, as the engine computes it.
        const std::vector<std::string> sides = g.split(distances, {2, 2}, 1, op.name + "_sides");
        std::string points, strides;
        if (options.dynamic) {
          const AnchorValues anchors = dynamicAnchors(g, d, in, op.name + "_anchors");
          points = anchors.points;
          strides = anchors.strides;
        } else {
          const AnchorConstants anchors = anchorConstants(d, metadata.batch, size);
          points = g.floats(op.name + "_anchor_points", anchors.points);
          strides = g.floats(op.name + "_anchor_strides", anchors.strides);
        }
        const std::string topLeft = g.binary("Sub", points, sides[0], op.name + "_tl");
        const std::string bottomRight = g.binary("Add", points, sides[1], op.name + "_br");
        // A scalar: OpenCV 4.6 mis-sizes a Mul against a full-shape constant once batch > 1.
        const std::string centre =
            g.binary("Mul", g.binary("Add", topLeft, bottomRight, op.name + "_sum"),
                     g.floats(op.name + "_half", torch::full({1}, 0.5)), op.name + "_centre");
        const std::string extent = g.binary("Sub", bottomRight, topLeft, op.name + "_wh");
        const std::string boxGrid = g.fresh(op.name + "_xywh");
        OnnxGraph::attribute(g.node("Concat", {centre, extent}, {boxGrid}, boxGrid), "axis",
                             int64_t{1});
        const std::string boxes = g.binary("Mul", boxGrid, strides, op.name + "_boxes");
        const std::string scores = g.unary("Sigmoid", boxCls[1], op.name + "_scores");
        OnnxGraph::attribute(g.node("Concat", {boxes, scores}, {"output0"}, op.name + "_output"),
                             "axis", int64_t{1});
        int64_t anchorsTotal = 0;
        for (const int64_t stride : d.strides)
          anchorsTotal += (size / stride) * (size / stride);
        onnx::ValueInfoProto* output = proto.add_output();
        output->set_name("output0");
        if (options.dynamic)
          setShape(output, {"batch", "", "anchors"}, {0, 4 + d.nc, 0});
        else
          setShape(output, {"", "", ""}, {batch, 4 + d.nc, anchorsTotal});
        break;
      }
    }
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the ONNX checker refused the model: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("cannot serialize the ONNX model");
  return bytes;
}

}  // namespace syncbn::exporter
