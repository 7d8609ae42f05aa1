#include "common/launch_forms.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace syncbn {
namespace {

// torchrun and the engine's process groups both use a TCPStore. torchrun's static rendezvous
// always, and its c10d rendezvous from PyTorch 2.4 on, hand the workers the agent's own store as
// MASTER_ADDR:MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True); the engine's rank 0 then joins it
// as a client (process_group.cpp, Store::tcp). With the c10d backend and this variable set,
// torchrun instead gives the workers a free port for rank 0 to host, as every torchrun before 2.4
// did with c10d: one behaviour on every version, which is what the forms promise. Older
// torchruns ignore it.
constexpr const char* kSeparateStoreVariable = "TORCH_DISABLE_SHARE_RDZV_TCP_STORE";

// The training-operator's names (pkg/apis/kubeflow.org/v1/pytorch_types.go): it reads
// MASTER_PORT from the port of this name on the container of this name.
constexpr const char* kOperatorContainerName = "pytorch";
constexpr const char* kOperatorPortName = "pytorchjob-port";
constexpr std::size_t kKubernetesNameLimit = 63;

void require(bool valid, const std::string& problem) {
  if (!valid) throw std::invalid_argument("launch spec: " + problem);
}

void validate(const LaunchSpec& spec) {
  require(!spec.engine.empty(), "engine is empty");
  require(!spec.configFile.empty(), "configFile is empty");
  require(spec.nnodes >= 1, "nnodes must be at least 1, got " + std::to_string(spec.nnodes));
  require(spec.procsPerNode >= 1,
          "procsPerNode must be at least 1, got " + std::to_string(spec.procsPerNode));
  require(spec.masterPort >= 1 && spec.masterPort <= 65535,
          "masterPort must be in [1, 65535], got " + std::to_string(spec.masterPort));
  require(spec.cpusPerTask >= 1,
          "cpusPerTask must be at least 1, got " + std::to_string(spec.cpusPerTask));
}

bool isAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Characters that no POSIX shell expands, splits on or treats as an operator anywhere in a word.
bool isShellSafe(char c) {
  return isAsciiAlnum(c) || std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
}

// A name Slurm and torchrun accept as is: letters, digits, '.', '_' and '-'.
std::string plainName(const std::string& name) {
  std::string out;
  for (const char c : name)
    out += (isAsciiAlnum(c) || c == '.' || c == '_' || c == '-') ? c : '_';
  return out.empty() ? "syncbn" : out;
}

// The command word: quoted also when it looks like an assignment (NAME=value) to the shell.
std::string commandWord(const std::string& program) {
  const std::string quoted = shellQuote(program);
  if (quoted == program && program.find('=') != std::string::npos) return "'" + program + "'";
  return quoted;
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& word : words) {
    if (!line.empty()) line += ' ';
    line += word;
  }
  return line;
}

// `ENGINE train CONFIG [overrides]`, each word quoted for the shell.
std::vector<std::string> engineWords(const LaunchSpec& spec) {
  std::vector<std::string> words = {commandWord(spec.engine), "train", shellQuote(spec.configFile)};
  for (const auto& override : spec.overrides)
    words.push_back(shellQuote(override));
  return words;
}

// torchrun's flags up to the program: every node joins the c10d rendezvous at `endpoint`.
// `nodeRank` is informational under c10d (it assigns node ranks itself), kept so each node's
// line says which node it is meant for.
std::vector<std::string> torchrunWords(const LaunchSpec& spec, const std::string& nodeRank,
                                       const std::string& endpoint) {
  return {"torchrun",         "--no-python",
          "--nnodes",         std::to_string(spec.nnodes),
          "--node-rank",      nodeRank,
          "--nproc-per-node", std::to_string(spec.procsPerNode),
          "--rdzv-backend",   "c10d",
          "--rdzv-endpoint",  endpoint,
          "--rdzv-id",        shellQuote(plainName(spec.jobName))};
}

// host:port, with an IPv6 address in brackets as torchrun's endpoint parser expects.
std::string endpointOf(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Kubernetes expands $(VAR) in a container's command itself, before the shell, and reads $$ as a
// literal $: doubling every $ of a word hands the shell the word unchanged.
std::string kubernetesLiteral(const std::string& word) {
  std::string out;
  for (const char c : word)
    out += c == '$' ? std::string("$$") : std::string(1, c);
  return out;
}

std::string processDescription(const LaunchSpec& spec) {
  return std::to_string(spec.nnodes) + " node(s) x " + std::to_string(spec.procsPerNode) +
         (spec.cuda ? " GPU(s) (NCCL)" : " CPU rank(s) (Gloo)");
}

void emitReplica(YAML::Emitter& out, const LaunchSpec& spec, const std::string& command,
                 int replicas) {
  out << YAML::BeginMap;
  out << YAML::Key << "replicas" << YAML::Value << replicas;
  // A restarted pod cannot rejoin a fixed-size world that is still running; rerun the job with
  // resume=true instead.
  out << YAML::Key << "restartPolicy" << YAML::Value << "Never";
  out << YAML::Key << "template" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "containers" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kOperatorContainerName;
  out << YAML::Key << "image" << YAML::Value << spec.image;
  // Double-quoted: the line holds '"', '$' and ':', which YAML 1.1 parsers read differently.
  out << YAML::Key << "command" << YAML::Value << YAML::Flow << YAML::BeginSeq << "/bin/sh"
      << "-c" << YAML::DoubleQuoted << command << YAML::EndSeq;
  out << YAML::Key << "env" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kSeparateStoreVariable;
  out << YAML::Key << "value" << YAML::Value << YAML::DoubleQuoted << "1";
  out << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kOperatorPortName;
  out << YAML::Key << "containerPort" << YAML::Value << spec.masterPort;
  out << YAML::EndMap << YAML::EndSeq;
  if (spec.cuda) {
    out << YAML::Key << "resources" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "nvidia.com/gpu" << YAML::Value << spec.procsPerNode;
    out << YAML::EndMap << YAML::EndMap;
    // NCCL exchanges data through /dev/shm, which is 64 MiB in a container by default.
    out << YAML::Key << "volumeMounts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << "dshm";
    out << YAML::Key << "mountPath" << YAML::Value << "/dev/shm";
    out << YAML::EndMap << YAML::EndSeq;
  }
  out << YAML::EndMap << YAML::EndSeq;  // the container, containers
  if (spec.cuda) {
    out << YAML::Key << "volumes" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << "dshm";
    out << YAML::Key << "emptyDir" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "medium" << YAML::Value << "Memory";
    out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  }
  out << YAML::EndMap << YAML::EndMap;  // spec, template
  out << YAML::EndMap;
}

}  // namespace

std::string shellQuote(const std::string& word) {
  if (!word.empty() && std::all_of(word.begin(), word.end(), isShellSafe)) return word;
  std::string quoted = "'";
  for (const char c : word)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string kubernetesJobName(const std::string& name, int nnodes) {
  std::string out;
  for (const char c : name) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const bool keep = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (keep) {
      out += lower;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  if (out.empty() || !(out.front() >= 'a' && out.front() <= 'z')) out = "syncbn-" + out;
  // The longest name the operator derives: NAME-worker-(nnodes - 2), or NAME-master-0.
  const std::string suffix = "-worker-" + std::to_string(std::max(nnodes - 2, 0));
  const std::size_t limit = kKubernetesNameLimit - std::max(suffix.size(), sizeof "-master-0" - 1);
  if (out.size() > limit) out.resize(limit);
  while (out.back() == '-')
    out.pop_back();
  return out;
}

LaunchSpec launchSpecFor(const Config& config, const std::string& configFile, int procsPerNode) {
  LaunchSpec spec;
  spec.configFile = configFile;
  spec.nnodes = config.distributed.nnodes;
  spec.procsPerNode = procsPerNode;
  spec.cuda = config.distributed.device != "cpu";
  spec.masterAddr = config.distributed.master_addr;
  spec.masterPort = config.distributed.master_port;
  spec.jobName = config.output.name;
  spec.cpusPerTask = std::max(config.train.workers, 0) + 1;
  return spec;
}

std::string torchrunCommand(const LaunchSpec& spec, int nodeRank) {
  validate(spec);
  require(!spec.masterAddr.empty(), "masterAddr is empty");
  require(nodeRank >= 0 && nodeRank < spec.nnodes, "nodeRank must be in [0, " +
                                                       std::to_string(spec.nnodes) + "), got " +
                                                       std::to_string(nodeRank));
  std::vector<std::string> words = {std::string(kSeparateStoreVariable) + "=1"};
  for (auto& word : torchrunWords(spec, std::to_string(nodeRank),
                                  shellQuote(endpointOf(spec.masterAddr, spec.masterPort))))
    words.push_back(std::move(word));
  for (auto& word : engineWords(spec))
    words.push_back(std::move(word));
  return joinWords(words);
}

std::string slurmScript(const LaunchSpec& spec) {
  validate(spec);
  const std::string g = std::to_string(spec.procsPerNode);
  const std::string cpus = std::to_string(spec.cpusPerTask);
  std::string script = "#!/bin/bash\n";
  script += "# SyncBN Studio: " + plainName(spec.jobName) + " on " + processDescription(spec) +
            ", one Slurm task per rank.\n";
  script += "#SBATCH --job-name=" + plainName(spec.jobName) + "\n";
  script += "#SBATCH --nodes=" + std::to_string(spec.nnodes) + "\n";
  script += "#SBATCH --ntasks-per-node=" + g + "\n";
  if (spec.cuda) script += "#SBATCH --gpus-per-node=" + g + "\n";
  script += "#SBATCH --cpus-per-task=" + cpus + "\n";
  script += "set -eu\n\n";
  script +=
      "# Task 0 (rank 0) runs on the allocation's first node and hosts the rendezvous there.\n"
      "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
      "export MASTER_ADDR\n"
      "export MASTER_PORT=" +
      std::to_string(spec.masterPort) + "\n\n";
  // The engine, a rank under srun (--worker), takes rank, world size and local rank from
  // SLURM_PROCID, SLURM_NTASKS and SLURM_LOCALID (dist::Rendezvous::fromEnvironment).
  if (spec.cuda)
    script +=
        "# Every task sees all of its node's GPUs (no --gpus-per-task, no --gpu-bind): the engine\n"
        "# gives rank SLURM_LOCALID the SLURM_LOCALID-th device that distributed.device lists\n"
        "# (\"\" = every visible one), so the node's ranks use one GPU each.\n";
  script +=
      "# srun does not inherit --cpus-per-task from sbatch since Slurm 22.05, hence repeated;\n"
      "# --kill-on-bad-exit ends every rank when one fails instead of leaving them waiting.\n";
  std::vector<std::string> words = {"srun", "--kill-on-bad-exit=1", "--cpus-per-task=" + cpus};
  for (auto& word : engineWords(spec))
    words.push_back(std::move(word));
  words.push_back("--worker");
  script += joinWords(words) + "\n";
  return script;
}

std::string kubeflowManifest(const LaunchSpec& spec) {
  validate(spec);
  require(!spec.image.empty(), "image is empty");
  // The training-operator (v1.7 on) sets MASTER_ADDR and MASTER_PORT (the Master pod's service
  // and the port named pytorchjob-port) in every pod, and PET_NODE_RANK (the pod's index, Master
  // 0) and PET_NNODES next to spec.nprocPerNode. The c10d rendezvous runs on the Master pod,
  // whose hostname is MASTER_ADDR. torchrun then sets RANK, WORLD_SIZE, LOCAL_RANK and its own
  // MASTER_ADDR/MASTER_PORT for each rank, replacing the operator's pod-level RANK/WORLD_SIZE.
  std::vector<std::string> words = {"exec"};
  for (auto& word : torchrunWords(spec, "\"$PET_NODE_RANK\"", "\"$MASTER_ADDR:$MASTER_PORT\""))
    words.push_back(std::move(word));
  for (const auto& word : engineWords(spec))
    words.push_back(kubernetesLiteral(word));
  const std::string command = joinWords(words);

  std::string header = "# SyncBN Studio: " + plainName(spec.jobName) + " on " +
                       processDescription(spec) + ", torchrun in each pod.\n";
  header +=
      "# The configuration must be readable inside the containers at the path the command names\n"
      "# (bake it into the image, or mount a ConfigMap or shared volume there), and\n"
      "# output.project should be on a persistent volume shared by the pods: rank 0, on the pod\n"
      "# the rendezvous makes node 0, writes the run directory.\n";

  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "kubeflow.org/v1";
  out << YAML::Key << "kind" << YAML::Value << "PyTorchJob";
  out << YAML::Key << "metadata" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << kubernetesJobName(spec.jobName, spec.nnodes);
  out << YAML::EndMap;
  out << YAML::Key << "spec" << YAML::Value << YAML::BeginMap;
  // A string in the v1 API ("auto", "cpu", "gpu" or a number), so quoted.
  out << YAML::Key << "nprocPerNode" << YAML::Value << YAML::DoubleQuoted
      << std::to_string(spec.procsPerNode);
  out << YAML::Key << "pytorchReplicaSpecs" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "Master" << YAML::Value;
  emitReplica(out, spec, command, 1);
  if (spec.nnodes > 1) {
    out << YAML::Key << "Worker" << YAML::Value;
    emitReplica(out, spec, command, spec.nnodes - 1);
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndMap;
  if (!out.good()) throw std::logic_error("kubeflowManifest: " + out.GetLastError());
  return header + out.c_str() + "\n";
}

}  // namespace syncbn
