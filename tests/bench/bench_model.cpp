// YOLOv8 forward and forward+backward time per image on this machine's CPU (or CUDA device 0
// with --cuda), next to the model's GFLOPs, for n and s at 320 and 640 px.
//   bench_model [--cuda] [--channels-last] [repetitions (default 3)] [batch (default 2)]
// --channels-last stores the images and every 4-D parameter channels last (NHWC), the layout
// oneDNN's CPU convolutions prefer, to measure what the trainer would gain from it (issue 16).
// Forward: eval mode, no autograd (inference). Forward+backward: train mode, batch statistics,
// a stand-in loss (mean of squared head outputs) so the backward pass covers the whole network;
// its GFLOP/s counts 3x the forward GFLOPs (backward ~ 2x forward, the usual convention).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "model/detection_model.h"
#include "model/model_summary.h"

namespace {

using syncbn::model::DetectionModel;
using Clock = std::chrono::steady_clock;

struct Timing {
  double best = 0;  // seconds per image
  double median = 0;
};

template <typename Step>
Timing timePerImage(Step step, int repetitions, int64_t batch, const torch::Device& device) {
  step();  // warm-up: allocator, OpenBLAS/cuDNN setup
  std::vector<double> seconds;
  for (int r = 0; r < repetitions; ++r) {
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto start = Clock::now();
    step();
    if (device.is_cuda()) torch::cuda::synchronize();
    seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count() /
                      static_cast<double>(batch));
  }
  std::sort(seconds.begin(), seconds.end());
  return {seconds.front(), seconds[seconds.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  bool cuda = false, channelsLast = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--cuda") == 0)
      cuda = true;
    else if (std::strcmp(argv[i], "--channels-last") == 0)
      channelsLast = true;
    else
      positional.emplace_back(argv[i]);
  }
  const int repetitions = positional.size() > 0 ? std::stoi(positional[0]) : 3;
  const int64_t batch = positional.size() > 1 ? std::stoll(positional[1]) : 2;
  const torch::Device device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);

  const auto memoryFormat =
      channelsLast ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  std::printf("YOLOv8 on %s, %d intra-op thread(s), batch %lld, %s, best / median of %d\n",
              cuda ? "CUDA device 0" : "CPU", torch::get_num_threads(),
              static_cast<long long>(batch), channelsLast ? "channels last" : "contiguous",
              repetitions);
  std::printf(
      "| model | imgsz | GFLOPs/img | fwd ms/img (best, median) | fwd GFLOP/s | "
      "fwd+bwd ms/img (best, median) | fwd+bwd GFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const char* name : {"yolov8n.yaml", "yolov8s.yaml"}) {
    torch::manual_seed(0);
    DetectionModel model = syncbn::model::buildDetectionModel(name);
    model->to(device);
    if (channelsLast) {
      torch::NoGradGuard noGrad;
      for (torch::Tensor& parameter : model->parameters())
        if (parameter.dim() == 4) parameter.set_data(parameter.contiguous(memoryFormat));
    }
    for (const int64_t imgsz : {320, 640}) {
      const double gflops = syncbn::model::summarize(*model, imgsz).gflops;
      const torch::Tensor images =
          torch::rand({batch, 3, imgsz, imgsz}, device).contiguous(memoryFormat);

      model->eval();
      const Timing forward = timePerImage(
          [&] {
            torch::NoGradGuard noGrad;
            model->predict(images);
          },
          repetitions, batch, device);

      model->train();
      const Timing step = timePerImage(
          [&] {
            model->zero_grad();
            torch::Tensor loss = torch::zeros({}, device);
            for (const torch::Tensor& level : model->forwardLevels(images))
              loss = loss + level.square().mean();
            loss.backward();
          },
          repetitions, batch, device);

      std::printf("| %s | %lld | %.1f | %.1f, %.1f | %.1f | %.1f, %.1f | %.1f |\n",
                  model->definition().name.c_str(), static_cast<long long>(imgsz), gflops,
                  forward.best * 1e3, forward.median * 1e3, gflops / forward.best, step.best * 1e3,
                  step.median * 1e3, 3 * gflops / step.best);
      std::fflush(stdout);
    }
  }
  return 0;
}
