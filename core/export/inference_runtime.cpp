#include "export/inference_runtime.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "common/atomic_file.h"
#include "data/augment.h"
#include "data/batch_loader.h"
#include "data/verify.h"
#include "model/detection_model.h"
#include "model/postprocess.h"
#include "train/checkpoint_file.h"
#include "train/pretrained_weights.h"

#ifdef SYNCBN_HAVE_ONNX
#include <onnx/onnx_pb.h>
#endif

namespace syncbn::exporter {
namespace {

std::string firstBytes(const std::filesystem::path& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open the weights");
  std::string bytes(count, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(count));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

// Runs `run` on chunks of exactly `batch` images (the last padded by repeating its final image).
at::Tensor inChunks(const at::Tensor& images, int64_t batch,
                    const std::function<at::Tensor(const at::Tensor&)>& run) {
  if (batch <= 0 || images.size(0) == batch) return run(images);
  std::vector<at::Tensor> outputs;
  for (int64_t start = 0; start < images.size(0); start += batch) {
    const int64_t count = std::min(batch, images.size(0) - start);
    at::Tensor chunk = images.narrow(0, start, count);
    if (count < batch)
      chunk = torch::cat(
          {chunk, chunk.narrow(0, count - 1, 1)
                      .expand({batch - count, chunk.size(1), chunk.size(2), chunk.size(3)})});
    outputs.push_back(run(chunk.contiguous()).narrow(0, 0, count));
  }
  return torch::cat(outputs);
}

LoadedDetector loadOnnx(const std::filesystem::path& path) {
#ifndef SYNCBN_HAVE_ONNX
  throw std::runtime_error(path.string() + ": this engine was built without ONNX (libonnx-dev)");
#else
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto proto;
  if (!proto.ParseFromIstream(&in) || proto.graph().input_size() != 1)
    throw std::runtime_error(path.string() + ": not an ONNX model with one input");
  LoadedDetector detector;
  detector.kind = "onnx";
  for (const auto& entry : proto.metadata_props()) {
    if (entry.key() == "names") detector.names = parseNamesRepr(entry.value());
    if (entry.key() == "imgsz") detector.imgsz = std::atoi(entry.value().c_str() + 1);
  }
  if (detector.names.empty())
    throw std::runtime_error(path.string() + ": its metadata names no classes ('names')");
  const auto& dims = proto.graph().input(0).type().tensor_type().shape().dim();
  const int64_t batch = dims.size() == 4 && dims[0].has_dim_value() ? dims[0].dim_value() : 0;
  detector.anySize = dims.size() == 4 && !dims[2].has_dim_value();
  if (dims.size() == 4 && dims[2].has_dim_value())
    detector.imgsz = static_cast<int>(dims[2].dim_value());
  auto net = std::make_shared<cv::dnn::Net>();
  try {
    *net = cv::dnn::readNetFromONNX(path.string());
  } catch (const cv::Exception& e) {
    throw std::runtime_error(path.string() + ": OpenCV DNN refuses it: " + e.what());
  }
  detector.predict = [net, batch](const at::Tensor& images) {
    return inChunks(images, batch, [&net](const at::Tensor& chunk) {
      const at::Tensor input = chunk.to(torch::kCPU, torch::kFloat32).contiguous();
      const std::vector<int> shape(input.sizes().begin(), input.sizes().end());
      net->setInput(
          cv::Mat(static_cast<int>(shape.size()), shape.data(), CV_32F, input.data_ptr<float>()),
          "images");
      cv::Mat out = net->forward("output0");
      const std::vector<int64_t> sizes(out.size.p, out.size.p + out.dims);
      return torch::from_blob(out.ptr<float>(), sizes, torch::kFloat32).clone();
    });
  };
  return detector;
#endif
}

LoadedDetector loadTorchScript(const std::filesystem::path& path) {
  torch::jit::ExtraFilesMap extra{{"names", ""}, {"config.txt", ""}};
  auto module = std::make_shared<torch::jit::Module>();
  try {
    *module = torch::jit::load(path.string(), c10::nullopt, extra);
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": torch::jit::load refuses it: " + e.what());
  }
  module->eval();
  LoadedDetector detector;
  detector.kind = "torchscript";
  try {
    const nlohmann::json names = nlohmann::json::parse(extra["names"]);
    for (std::size_t c = 0; c < names.size(); ++c)
      detector.names.push_back(names.at(std::to_string(c)).get<std::string>());
    const nlohmann::json config = nlohmann::json::parse(extra["config.txt"]);
    detector.imgsz = config.at("imgsz").at(0).get<int>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() +
                             ": not a SyncBN Studio TorchScript export (its 'names' or "
                             "'config.txt' extra file is missing or unreadable: " +
                             e.what() + ")");
  }
  detector.predict = [module](const at::Tensor& images) {
    const torch::NoGradGuard noGrad;
    return module->forward({images.to(torch::kFloat32)}).toTensor().to(torch::kFloat32);
  };
  return detector;
}

LoadedDetector loadCheckpoint(const std::filesystem::path& path) {
  train::CheckpointModel loaded = train::loadCheckpointModel(path);
  LoadedDetector detector;
  detector.kind = "checkpoint";
  detector.names = loaded.names;
  detector.imgsz = loaded.imgsz;
  detector.model = loaded.model;
  detector.configYaml = loaded.meta.configYaml;
  detector.predict = [model = loaded.model](const at::Tensor& images) {
    const torch::NoGradGuard noGrad;
    return model->predict(images);
  };
  return detector;
}

// An Ultralytics checkpoint (or the converter's plain form) as the detector its own definition
// builds; every one of its tensors must fit, or the predictions would not be the file's.
LoadedDetector loadUltralytics(const std::filesystem::path& path) {
  const train::PretrainedWeights weights = train::readPretrainedWeights(path);
  auto model = std::make_shared<model::DetectionModelImpl>(train::pretrainedDefinition(weights));
  const train::TransferReport report = train::transferWeights(*model, weights);
  if (report.transferred != report.total || !report.unused.empty())
    throw std::runtime_error(
        path.string() + ": " + std::to_string(report.transferred) + " of the model's " +
        std::to_string(report.total) + " items fit, and " + std::to_string(report.unused.size()) +
        " of the file's are unused" +
        (report.notTransferred.empty() ? std::string() : " (" + report.notTransferred[0] + ")") +
        ": its tensors do not fit the model its definition builds");
  model->eval();
  for (auto& parameter : model->parameters())
    parameter.set_requires_grad(false);
  LoadedDetector detector;
  detector.kind = "ultralytics";
  detector.names = weights.names;
  for (auto c = static_cast<int64_t>(detector.names.size()); c < model->definition().nc; ++c)
    detector.names.push_back(std::to_string(c));  // Ultralytics' default names
  detector.imgsz = weights.imgsz > 0 ? weights.imgsz : 640;
  detector.model = model;
  detector.predict = [model](const at::Tensor& images) {
    const torch::NoGradGuard noGrad;
    return model->predict(images);
  };
  return detector;
}

// A torch.save archive holds data.pkl; a TorchScript module holds its code and constants.
bool isTorchScriptArchive(const std::filesystem::path& path) {
  try {
    caffe2::serialize::PyTorchStreamReader archive(path.string());
    return archive.hasRecord("constants.pkl") || !archive.hasRecord("data.pkl");
  } catch (const std::exception&) {
    return true;  // torch::jit::load then says what is wrong with it
  }
}

}  // namespace

std::vector<std::string> parseNamesRepr(const std::string& text) {
  std::vector<std::string> names;
  std::size_t at = 0;
  const auto fail = [&text](const std::string& what) {
    throw std::invalid_argument("names " + text + ": " + what);
  };
  const auto skipSpace = [&] {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])))
      ++at;
  };
  skipSpace();
  if (at >= text.size() || text[at++] != '{') fail("not a {id: 'name', ...} dictionary");
  for (;;) {
    skipSpace();
    if (at < text.size() && text[at] == '}') break;
    std::size_t end = at;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
      ++end;
    if (end == at) fail("expected a class id");
    if (std::stoul(text.substr(at, end - at)) != names.size()) fail("ids out of order");
    at = end;
    skipSpace();
    if (at >= text.size() || text[at++] != ':') fail("expected ':'");
    skipSpace();
    if (at >= text.size() || (text[at] != '\'' && text[at] != '"')) fail("expected a quoted name");
    const char quote = text[at++];
    std::string name;
    while (at < text.size() && text[at] != quote) {
      if (text[at] == '\\' && at + 1 < text.size()) ++at;
      name += text[at++];
    }
    if (at >= text.size()) fail("unterminated name");
    ++at;
    names.push_back(name);
    skipSpace();
    if (at < text.size() && text[at] == ',') ++at;
  }
  return names;
}

LoadedDetector loadDetector(const std::filesystem::path& weights) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(weights, error))
    throw std::runtime_error(weights.string() + ": no such weights file");
  const std::string magic = firstBytes(weights, 8);
  try {
    if (magic == "SYNCBNCK") return loadCheckpoint(weights);
  } catch (const train::CheckpointError& e) {
    throw std::runtime_error(e.what());
  }
  if (magic.rfind("PK", 0) == 0) {
    if (isTorchScriptArchive(weights)) return loadTorchScript(weights);
    try {
      return loadUltralytics(weights);
    } catch (const train::CheckpointError& e) {
      throw std::runtime_error(e.what());
    }
  }
  if (weights.extension() == ".onnx") return loadOnnx(weights);
  throw std::runtime_error(weights.string() +
                           ": not a SyncBN Studio or Ultralytics checkpoint (.pt), ONNX (.onnx) "
                           "or TorchScript (.torchscript) file");
}

LetterboxedImage letterboxImage(const std::filesystem::path& image, int imgsz) {
  const cv::Mat decoded = cv::imread(image.string(), cv::IMREAD_COLOR);
  if (decoded.empty()) throw std::runtime_error(image.string() + ": cannot read this image");
  data::Sample sample;
  sample.image = image;
  sample.width = decoded.cols;
  sample.height = decoded.rows;
  data::AugmentSettings settings;
  settings.imgsz = imgsz;
  settings.augment = false;
  const data::TrainingExample example = data::ExampleFactory({sample}, settings).validation(0);
  const at::Tensor pixels = torch::from_blob(const_cast<uint8_t*>(example.rgb.data()),
                                             {1, example.height, example.width, 3}, torch::kUInt8)
                                .permute({0, 3, 1, 2})
                                .contiguous();
  LetterboxedImage out;
  out.pixels = data::toFloatImages(pixels, c10::Device(c10::kCPU));
  out.ratio = example.ratio;
  out.padX = example.padX;
  out.padY = example.padY;
  out.width = decoded.cols;
  out.height = decoded.rows;
  return out;
}

ImagePrediction predictImage(const LoadedDetector& detector, const std::filesystem::path& image,
                             const PredictOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const LetterboxedImage input = letterboxImage(image, detector.imgsz);
  ImagePrediction prediction;
  prediction.image = image;
  prediction.width = input.width;
  prediction.height = input.height;
  const at::Tensor output = detector.predict(input.pixels);
  model::NmsOptions nms;
  nms.confThreshold = options.conf;
  nms.iouThreshold = options.iou;
  nms.maxDet = options.maxDet;
  const at::Tensor found = model::nonMaxSuppression(output, nms).front();
  const model::Letterbox letterbox{input.ratio,
                                   input.padX,
                                   input.padY,
                                   {prediction.height, prediction.width},
                                   {input.pixels.size(2), input.pixels.size(3)}};
  const at::Tensor boxes =
      model::boxesToOriginal(found.narrow(1, 0, 4), letterbox).to(torch::kFloat32).contiguous();
  for (int64_t i = 0; i < found.size(0); ++i) {
    Detection d;
    d.x1 = boxes[i][0].item<float>();
    d.y1 = boxes[i][1].item<float>();
    d.x2 = boxes[i][2].item<float>();
    d.y2 = boxes[i][3].item<float>();
    d.confidence = found[i][4].item<float>();
    d.cls = static_cast<int>(found[i][5].item<float>());
    prediction.detections.push_back(d);
  }
  prediction.milliseconds =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return prediction;
}

void writeAnnotated(const ImagePrediction& prediction, const std::vector<std::string>& names,
                    const std::filesystem::path& output) {
  cv::Mat canvas = cv::imread(prediction.image.string(), cv::IMREAD_COLOR);
  if (canvas.empty())
    throw std::runtime_error(prediction.image.string() + ": cannot read this image");
  const int thickness =
      std::max(1, static_cast<int>(std::lround((canvas.cols + canvas.rows) / 600.0)));
  for (const Detection& d : prediction.detections) {
    // A colour per class from a fixed palette, as Ultralytics' plots do.
    static const cv::Scalar kPalette[] = {
        {56, 56, 255}, {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207},
        {10, 249, 72}, {23, 204, 146},  {134, 219, 61}, {52, 147, 26},  {187, 212, 0}};
    const cv::Scalar colour = kPalette[static_cast<std::size_t>(d.cls) % std::size(kPalette)];
    const cv::Point topLeft(static_cast<int>(d.x1), static_cast<int>(d.y1));
    cv::rectangle(canvas, topLeft, cv::Point(static_cast<int>(d.x2), static_cast<int>(d.y2)),
                  colour, thickness);
    std::ostringstream label;
    label << (static_cast<std::size_t>(d.cls) < names.size()
                  ? names[static_cast<std::size_t>(d.cls)]
                  : std::to_string(d.cls))
          << " " << std::fixed << std::setprecision(2) << d.confidence;
    int baseline = 0;
    const double scale = 0.4 * thickness;
    const cv::Size text =
        cv::getTextSize(label.str(), cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
    // Above the box, inside the image: moved down and left where the box touches its edges.
    const cv::Point labelOrigin(std::max(0, std::min(topLeft.x, canvas.cols - text.width - 2)),
                                std::max(text.height + 2, topLeft.y));
    cv::rectangle(canvas, labelOrigin + cv::Point(0, -text.height - 2),
                  labelOrigin + cv::Point(text.width + 2, baseline), colour, cv::FILLED);
    cv::putText(canvas, label.str(), labelOrigin + cv::Point(1, -1), cv::FONT_HERSHEY_SIMPLEX,
                scale, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  std::vector<uchar> bytes;
  if (!cv::imencode(output.extension().string(), canvas, bytes))
    throw std::runtime_error(output.string() + ": cannot encode the annotated image");
  writeFileAtomically(output,
                      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string labelLines(const ImagePrediction& prediction) {
  std::ostringstream lines;
  lines << std::setprecision(6);
  const double w = prediction.width, h = prediction.height;
  for (const Detection& d : prediction.detections)
    lines << d.cls << ' ' << (d.x1 + d.x2) / 2 / w << ' ' << (d.y1 + d.y2) / 2 / h << ' '
          << (d.x2 - d.x1) / w << ' ' << (d.y2 - d.y1) / h << ' ' << d.confidence << '\n';
  return lines.str();
}

}  // namespace syncbn::exporter
