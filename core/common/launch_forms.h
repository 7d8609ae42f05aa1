// The current configuration as ready-to-run text for the launchers users already run at scale:
// one torchrun line per node, a Slurm sbatch script, a Kubeflow PyTorchJob manifest. The
// configuration file itself is written by the caller; these forms only name it.
//
// Every form starts the engine as a rank process, never as its own launcher: torchrun sets RANK
// (so the engine knows it is a rank), srun does not (so the srun line passes --worker). Each rank
// checks that the environment's WORLD_SIZE equals the configuration's ranks (resolveTopology), so
// `procsPerNode` must be the configuration's ranks per node on the nodes: the number of CUDA
// devices `distributed.device` names there ("" = all visible), or `distributed.cpu_ranks`.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace syncbn {

struct LaunchSpec {
  std::string engine = "syncbn-engine";  // program on the nodes (name on PATH or absolute path)
  std::string configFile;  // the configuration YAML the nodes read (path as the nodes see it)
  int nnodes = 1;          // nodes
  int procsPerNode = 1;    // ranks per node (GPUs per node, or CPU ranks)
  bool cuda = true;        // GPUs (NCCL) or CPU ranks (Gloo)
  std::string masterAddr;  // node 0's address (rendezvous endpoint)
  int masterPort = 29500;
  std::string jobName = "syncbn";              // Slurm job / PyTorchJob name (sanitised for each)
  std::string image = "syncbn-studio:latest";  // container image for Kubernetes
  std::vector<std::string> overrides;  // extra key=value overrides appended after the config file
  // Slurm --cpus-per-task: the rank's own thread plus its train.workers data-loading threads.
  int cpusPerTask = 9;
};

// nnodes, masterAddr and masterPort from `distributed`, cuda = (device != "cpu"), jobName from
// output.name, cpusPerTask = train.workers + 1. procsPerNode: see the note at the top.
LaunchSpec launchSpecFor(const Config& config, const std::string& configFile, int procsPerNode);

// The line to run on node `nodeRank` (0-based). Throws std::invalid_argument when the spec or
// nodeRank is out of range.
std::string torchrunCommand(const LaunchSpec& spec, int nodeRank);

// A complete sbatch script (bash). Throws std::invalid_argument for an invalid spec.
std::string slurmScript(const LaunchSpec& spec);

// A Kubeflow training-operator PyTorchJob (kubeflow.org/v1) manifest, one YAML document.
// Throws std::invalid_argument for an invalid spec.
std::string kubeflowManifest(const LaunchSpec& spec);

// `word` as one POSIX shell word: unchanged when it holds only characters no shell treats
// specially, else single-quoted (a ' inside becomes '\'').
std::string shellQuote(const std::string& word);

// `name` as a PyTorchJob name: DNS-1035 (lower-case letters, digits and '-', starting with a
// letter, ending with a letter or digit) and short enough that the operator's pod and service
// names (NAME-worker-INDEX for `nnodes` nodes) stay within 63 characters.
std::string kubernetesJobName(const std::string& name, int nnodes);

}  // namespace syncbn
