// Where validation's time goes, per image: the real train::Validator on synthetic images
// (tests/bench/synthetic_example.h), yolov8 at one scale, as the trainer validates the EMA.
//   bench_validation [--model n] [--imgsz 320] [--images 128] [--batch 16] [--nc 3]
//                    [--repetitions 3] [--workers 2] [--threads cores]
// Two models: "untrained" as built (Ultralytics' class-bias prior: almost no score above the
// 0.001 confidence threshold) and "saturated" (every class bias 0: every score 0.5, every
// (anchor, class) pair a candidate), the worst case NMS's limits (max_nms 30000 candidates,
// max_det 300 kept) bound. Times are the best of the repetitions, in ms per image.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include "dist/cpu_threads.h"
#include "model/detection_model.h"
#include "synthetic_example.h"
#include "train/validator.h"

namespace {

using namespace syncbn;

struct Options {
  std::string model = "n";
  int imgsz = 320;
  int images = 128;
  int batch = 16;
  int nc = 3;
  int repetitions = 3;
  int workers = 2;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
};

void saturate(model::DetectionModelImpl& net) {
  const torch::NoGradGuard noGrad;
  for (auto& item : net.named_parameters()) {
    const std::string& name = item.key();
    // The class branch's last convolution: <detect>.cv3.<level>.2.bias.
    const auto at = name.find(".cv3.");
    if (at != std::string::npos && name.size() > 7 &&
        name.compare(name.size() - 7, 7, ".2.bias") == 0)
      item.value().zero_();
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app("Validation time per image, by stage");
  app.add_option("--model", o.model, "Scale n/s/m/l/x");
  app.add_option("--imgsz", o.imgsz, "Image size");
  app.add_option("--images", o.images, "Validation images");
  app.add_option("--batch", o.batch, "Validation batch");
  app.add_option("--nc", o.nc, "Classes");
  app.add_option("--repetitions", o.repetitions, "Repetitions (the best is shown)");
  app.add_option("--workers", o.workers, "Loader threads");
  app.add_option("--threads", o.threads, "Intra-op threads (default: the cores, as the engine)");
  CLI11_PARSE(app, argc, argv);
  dist::useCpuThreads(o.threads);

  std::printf(
      "yolov8%s at %d, %d images in batches of %d, %d classes, %d intra-op thread(s), "
      "best of %d; ms per image\n\n",
      o.model.c_str(), o.imgsz, o.images, o.batch, o.nc, torch::get_num_threads(), o.repetitions);
  std::printf(
      "| model | total | data wait | forward | loss | NMS | matching | gather + AP | "
      "detections/image |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const bool saturated : {false, true}) {
    torch::manual_seed(0);
    model::DetectionModel net = model::buildDetectionModel("yolov8.yaml", o.model, o.nc);
    if (saturated) saturate(*net);
    train::ValidationOptions options;
    options.batchPerRank = o.batch;
    options.workers = o.workers;
    const int imgsz = o.imgsz;
    train::Validator validator(
        [imgsz](std::size_t index) { return bench::syntheticExample(index, 1000, imgsz); },
        static_cast<std::size_t>(o.images), nullptr, torch::kCPU, options);
    train::ValidationResult best;
    best.seconds = 1e30;
    validator.run(*net);  // warm-up: allocator, OpenBLAS
    for (int r = 0; r < o.repetitions; ++r) {
      const train::ValidationResult result = validator.run(*net);
      if (result.seconds < best.seconds) best = result;
    }
    const double perImage = 1000.0 / static_cast<double>(o.images);
    const auto& t = best.timings;
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n",
                saturated ? "saturated" : "untrained", best.seconds * perImage, t.data * perImage,
                t.forward * perImage, t.loss * perImage, t.nms * perImage, t.matching * perImage,
                t.gather * perImage,
                static_cast<double>(best.detections) / static_cast<double>(o.images));
  }
  return 0;
}
