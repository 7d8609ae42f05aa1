#include "common/validation.h"

#include "common/config_schema.h"

namespace syncbn {

Diagnostics validate(const Config& config, const HostFacts& host) {
  Diagnostics out;
  const auto error = [&](std::string field, std::string message) {
    out.push_back({Severity::Error, std::move(field), std::move(message), {}, {}, 0, {}});
  };

  for (const auto& spec : configFields()) {
    if (auto problem = checkFieldRange(spec, spec.get(config)); !problem.empty())
      error(spec.path(), std::move(problem));
  }

  if (config.data.data.empty())
    error("data.data", "is empty: give a data.yaml path, or 'demo' for the built-in dataset");
  if (config.data.imgsz % 32 != 0)
    error("data.imgsz", "must be a multiple of 32 (the detector's largest stride), got " +
                            std::to_string(config.data.imgsz));
  if (config.model.model.empty())
    error("model.model",
          "is empty: give a scale (n/s/m/l/x), yolov8n.yaml, a model YAML path, or starting "
          "weights (yolov8n.pt, a run's best.pt)");

  const auto& dist = config.distributed;
  if (!parseDeviceList(dist.device))
    error(
        "distributed.device",
        "expected '', 'cpu' or distinct CUDA device ids such as '0,1', got '" + dist.device + "'");
  if (dist.node_rank >= dist.nnodes)
    error("distributed.node_rank", "must be below nnodes (" + std::to_string(dist.nnodes) +
                                       "), got " + std::to_string(dist.node_rank));
  if (dist.master_addr.empty()) error("distributed.master_addr", "is empty");

  const Topology topology = resolveTopology(config, host);
  if (config.train.batch > 0 && config.train.batch % topology.worldSize != 0)
    error("train.batch", "global batch " + std::to_string(config.train.batch) +
                             " does not divide evenly across " +
                             std::to_string(topology.worldSize) + " ranks; use a multiple of " +
                             std::to_string(topology.worldSize));

  if (config.output.project.empty()) error("output.project", "is empty");
  if (config.output.name.empty()) error("output.name", "is empty");
  if (config.output.name.find('/') != std::string::npos)
    error("output.name", "must be a single directory name, got '" + config.output.name + "'");
  return out;
}

}  // namespace syncbn
