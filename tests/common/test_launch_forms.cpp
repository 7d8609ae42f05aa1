// The launch forms parsed back: the torchrun line split into words as a shell would, the sbatch
// script's directives and srun line, the PyTorchJob through yaml-cpp; where bash exists, each form
// also runs against stub launchers that record the arguments they receive.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "common/launch_forms.h"

namespace syncbn {
namespace {

namespace fs = std::filesystem;

// A path with a space and a single quote, as a user's home folder may have.
const std::string kConfigFile = "/shared/run configs/it's demo.yaml";

// POSIX word splitting without expansion: single quotes keep everything, double quotes keep all
// but \" \\ \$ \`, a backslash outside quotes escapes the next character.
std::vector<std::string> shellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool inWord = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (inWord) words.push_back(word);
      word.clear();
      inWord = false;
      continue;
    }
    inWord = true;
    if (c == '\'') {
      const std::size_t end = line.find('\'', i + 1);
      if (end == std::string::npos) throw std::runtime_error("unterminated ' in: " + line);
      word += line.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[i + 1]) != std::string_view::npos)
          ++i;
        word += line[i];
      }
      if (i == line.size()) throw std::runtime_error("unterminated \" in: " + line);
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else {
      word += c;
    }
  }
  if (inWord) words.push_back(word);
  return words;
}

// The value after `flag`, which must appear exactly once before the program's own arguments.
std::string flagValue(const std::vector<std::string>& words, const std::string& flag) {
  const auto first = std::find(words.begin(), words.end(), flag);
  if (first == words.end() || first + 1 == words.end()) return "<missing " + flag + ">";
  if (std::find(first + 1, words.end(), flag) != words.end()) return "<repeated " + flag + ">";
  return *(first + 1);
}

// The words from the engine on: ENGINE train CONFIG ...
std::vector<std::string> fromEngine(const std::vector<std::string>& words,
                                    const std::string& engine) {
  const auto it = std::find(words.begin(), words.end(), engine);
  return {it, words.end()};
}

Config twoNodesOfFourGpus() {
  Config config;
  config.distributed.nnodes = 2;
  config.distributed.device = "0,1,2,3";
  config.distributed.master_addr = "node0.cluster";
  config.distributed.master_port = 29600;
  config.output.name = "My Run #1";
  config.train.workers = 6;
  return config;
}

LaunchSpec specWithOverrides() {
  LaunchSpec spec = launchSpecFor(twoNodesOfFourGpus(), kConfigFile, 4);
  spec.overrides = {"epochs=3", "name=a b"};
  return spec;
}

bool haveBash() {
  return std::system("command -v bash >/dev/null 2>&1") == 0;
}

// A scratch directory with executable stubs that write their environment's `variables` and then
// their arguments, NUL-separated, to OUT/<name>.
class StubLaunchers {
 public:
  StubLaunchers() {
    std::string pattern = (fs::temp_directory_path() / "launch_forms_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    fs::create_directories(dir_ / "bin");
  }
  ~StubLaunchers() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  StubLaunchers(const StubLaunchers&) = delete;
  StubLaunchers& operator=(const StubLaunchers&) = delete;

  void add(const std::string& name, const std::vector<std::string>& variables) {
    const fs::path path = dir_ / "bin" / name;
    std::ofstream out(path);
    out << "#!/bin/sh\n: > \"$STUB_OUT/" << name << "\"\n";
    for (const auto& variable : variables)
      out << "printf '%s\\0' \"" << variable << "=${" << variable << "-<unset>}\" >> \"$STUB_OUT/"
          << name << "\"\n";
    out << "printf '%s\\0' \"$@\" >> \"$STUB_OUT/" << name << "\"\n";
    out.close();
    fs::permissions(path, fs::perms::owner_all);
  }
  // A stub that prints `output` (for scontrol).
  void addPrinter(const std::string& name, const std::string& output) {
    const fs::path path = dir_ / "bin" / name;
    std::ofstream(path) << "#!/bin/sh\ncat <<'EOF'\n" << output << "\nEOF\n";
    fs::permissions(path, fs::perms::owner_all);
  }
  fs::path file(const std::string& name) const { return dir_ / name; }

  // Runs `shell -c text` (or `shell FILE`) with the stubs first on PATH; returns the exit status.
  int run(const std::string& shell, const std::string& text, bool isFile,
          const std::string& environment = "") const {
    const std::string command = "cd " + shellQuote(dir_.string()) + " && " + environment +
                                " STUB_OUT=" + shellQuote(dir_.string()) +
                                " PATH=" + shellQuote((dir_ / "bin").string()) + ":\"$PATH\" " +
                                shell + (isFile ? " " : " -c ") + shellQuote(text);
    return std::system(command.c_str());
  }

  // What stub `name` recorded, one entry per NUL-terminated item.
  std::vector<std::string> recorded(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> items;
    std::size_t start = 0;
    for (std::size_t end; (end = text.find('\0', start)) != std::string::npos; start = end + 1)
      items.push_back(text.substr(start, end - start));
    return items;
  }

 private:
  fs::path dir_;
};

std::vector<std::string> linesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// ----- shellQuote --------------------------------------------------------------------------------

TEST(ShellQuote, LeavesPlainWordsAndQuotesTheRest) {
  EXPECT_EQ(shellQuote("syncbn-engine"), "syncbn-engine");
  EXPECT_EQ(shellQuote("/opt/run/cfg.yaml"), "/opt/run/cfg.yaml");
  EXPECT_EQ(shellQuote("epochs=3"), "epochs=3");
  EXPECT_EQ(shellQuote(""), "''");
  EXPECT_EQ(shellQuote("a b"), "'a b'");
  EXPECT_EQ(shellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(shellQuote("~/cfg.yaml"), "'~/cfg.yaml'");
}

TEST(ShellQuote, EveryWordSplitsBackToItself) {
  for (const std::string& word :
       {std::string("plain"), std::string("two words"), std::string("it's"), std::string("''"),
        std::string("$HOME"), std::string("`id`"), std::string("a;b|c&d"), std::string("*?[x]"),
        std::string("back\\slash"), std::string("\"dq\""), std::string("tab\tand\nnewline"),
        std::string("!bang"), std::string("#hash")}) {
    const auto words = shellWords(shellQuote(word));
    ASSERT_EQ(words.size(), 1u) << word;
    EXPECT_EQ(words[0], word);
  }
}

TEST(ShellQuote, BashReadsTheQuotedWordsBack) {
  if (!haveBash()) GTEST_SKIP() << "no bash";
  StubLaunchers stubs;
  stubs.add("record", {});
  const std::vector<std::string> words = {kConfigFile, "$HOME", "`id`", "a;b", "*", "\\", "\"", ""};
  std::string line = "record";
  for (const auto& word : words)
    line += " " + shellQuote(word);
  ASSERT_EQ(stubs.run("bash", line, false), 0);
  EXPECT_EQ(stubs.recorded("record"), words);
}

// ----- launchSpecFor -----------------------------------------------------------------------------

TEST(LaunchSpecFor, TakesTheDistributedSettingsFromTheConfig) {
  const LaunchSpec spec = launchSpecFor(twoNodesOfFourGpus(), kConfigFile, 4);
  EXPECT_EQ(spec.configFile, kConfigFile);
  EXPECT_EQ(spec.nnodes, 2);
  EXPECT_EQ(spec.procsPerNode, 4);
  EXPECT_TRUE(spec.cuda);
  EXPECT_EQ(spec.masterAddr, "node0.cluster");
  EXPECT_EQ(spec.masterPort, 29600);
  EXPECT_EQ(spec.jobName, "My Run #1");
  EXPECT_EQ(spec.cpusPerTask, 7);  // 6 loader threads + the rank's own
  EXPECT_EQ(spec.engine, "syncbn-engine");

  Config cpu;
  cpu.distributed.device = "cpu";
  EXPECT_FALSE(launchSpecFor(cpu, kConfigFile, 2).cuda);
  Config automatic;  // device "" = every CUDA device on the node
  EXPECT_TRUE(launchSpecFor(automatic, kConfigFile, 8).cuda);
}

// ----- torchrun ----------------------------------------------------------------------------------

TEST(TorchrunCommand, ArgumentsMatchTheConfig) {
  const LaunchSpec spec = specWithOverrides();
  for (int node = 0; node < 2; ++node) {
    const std::string line = torchrunCommand(spec, node);
    const auto words = shellWords(line);
    ASSERT_GE(words.size(), 3u) << line;
    EXPECT_EQ(words[0], "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1");
    EXPECT_EQ(words[1], "torchrun");
    EXPECT_EQ(words[2], "--no-python");
    const auto launcher =
        std::vector<std::string>(words.begin(), std::find(words.begin(), words.end(), spec.engine));
    EXPECT_EQ(flagValue(launcher, "--nnodes"), "2");
    EXPECT_EQ(flagValue(launcher, "--node-rank"), std::to_string(node));
    EXPECT_EQ(flagValue(launcher, "--nproc-per-node"), "4");
    EXPECT_EQ(flagValue(launcher, "--rdzv-backend"), "c10d");
    EXPECT_EQ(flagValue(launcher, "--rdzv-endpoint"), "node0.cluster:29600");
    EXPECT_EQ(flagValue(launcher, "--rdzv-id"), "My_Run__1");
    EXPECT_EQ(
        fromEngine(words, spec.engine),
        (std::vector<std::string>{"syncbn-engine", "train", kConfigFile, "epochs=3", "name=a b"}));
    // torchrun sets RANK, so the engine is a rank without --worker.
    EXPECT_EQ(std::find(words.begin(), words.end(), "--worker"), words.end());
  }
}

TEST(TorchrunCommand, BashPassesTheSameArgumentsToTorchrun) {
  if (!haveBash()) GTEST_SKIP() << "no bash";
  StubLaunchers stubs;
  stubs.add("torchrun", {"TORCH_DISABLE_SHARE_RDZV_TCP_STORE"});
  const std::string line = torchrunCommand(specWithOverrides(), 1);
  ASSERT_EQ(stubs.run("bash", line, false), 0);
  const auto words = shellWords(line);
  std::vector<std::string> expected = {"TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1"};
  expected.insert(expected.end(), words.begin() + 2, words.end());
  EXPECT_EQ(stubs.recorded("torchrun"), expected);
}

TEST(TorchrunCommand, BracketsAnIpv6EndpointAndQuotesAnOddEngine) {
  LaunchSpec spec = specWithOverrides();
  spec.masterAddr = "fd00::1";
  spec.engine = "/opt/syncbn studio/bin/syncbn-engine";
  const auto words = shellWords(torchrunCommand(spec, 0));
  EXPECT_EQ(flagValue(words, "--rdzv-endpoint"), "[fd00::1]:29600");
  EXPECT_NE(std::find(words.begin(), words.end(), spec.engine), words.end());
}

TEST(TorchrunCommand, RefusesAnInvalidSpec) {
  const LaunchSpec spec = specWithOverrides();
  EXPECT_THROW(torchrunCommand(spec, 2), std::invalid_argument);
  EXPECT_THROW(torchrunCommand(spec, -1), std::invalid_argument);
  LaunchSpec bad = spec;
  bad.procsPerNode = 0;
  EXPECT_THROW(torchrunCommand(bad, 0), std::invalid_argument);
  bad = spec;
  bad.configFile.clear();
  EXPECT_THROW(torchrunCommand(bad, 0), std::invalid_argument);
  bad = spec;
  bad.masterAddr.clear();
  EXPECT_THROW(torchrunCommand(bad, 0), std::invalid_argument);
  bad = spec;
  bad.masterPort = 70000;
  EXPECT_THROW(slurmScript(bad), std::invalid_argument);
}

// ----- Slurm -------------------------------------------------------------------------------------

TEST(SlurmScript, DirectivesMatchTheSpec) {
  const std::string script = slurmScript(launchSpecFor(twoNodesOfFourGpus(), kConfigFile, 4));
  const auto lines = linesOf(script);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "#!/bin/bash");
  std::vector<std::string> directives;
  for (const auto& line : lines)
    if (line.rfind("#SBATCH ", 0) == 0) directives.push_back(line.substr(8));
  EXPECT_EQ(directives,
            (std::vector<std::string>{"--job-name=My_Run__1", "--nodes=2", "--ntasks-per-node=4",
                                      "--gpus-per-node=4", "--cpus-per-task=7"}));
  // sbatch reads directives only up to the first command.
  bool seenCommand = false;
  for (const auto& line : lines) {
    if (line.rfind("#SBATCH", 0) == 0) {
      EXPECT_FALSE(seenCommand) << line;
    }
    if (!line.empty() && line[0] != '#') seenCommand = true;
  }
  EXPECT_NE(script.find("scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1"),
            std::string::npos);
  EXPECT_NE(script.find("export MASTER_ADDR\n"), std::string::npos);
  EXPECT_NE(script.find("export MASTER_PORT=29600\n"), std::string::npos);
}

TEST(SlurmScript, SrunLineEndsInTrainConfigWorker) {
  const std::string script = slurmScript(launchSpecFor(twoNodesOfFourGpus(), kConfigFile, 4));
  const auto lines = linesOf(script);
  const auto srun = std::find_if(lines.begin(), lines.end(),
                                 [](const auto& line) { return line.rfind("srun ", 0) == 0; });
  ASSERT_NE(srun, lines.end()) << script;
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const auto& line) { return line.rfind("srun", 0) == 0; }),
            1);
  const auto words = shellWords(*srun);
  ASSERT_GE(words.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(words.end() - 4, words.end()),
            (std::vector<std::string>{"syncbn-engine", "train", kConfigFile, "--worker"}));
  EXPECT_EQ(std::vector<std::string>(words.begin(), words.begin() + 3),
            (std::vector<std::string>{"srun", "--kill-on-bad-exit=1", "--cpus-per-task=7"}));
}

TEST(SlurmScript, CpuRanksAskForNoGpus) {
  Config config = twoNodesOfFourGpus();
  config.distributed.device = "cpu";
  const std::string script = slurmScript(launchSpecFor(config, kConfigFile, 3));
  EXPECT_EQ(script.find("--gpus"), std::string::npos);
  EXPECT_NE(script.find("#SBATCH --ntasks-per-node=3\n"), std::string::npos);
}

TEST(SlurmScript, BashAcceptsItAndSrunGetsTheRendezvous) {
  if (!haveBash()) GTEST_SKIP() << "no bash";
  StubLaunchers stubs;
  const std::string script = slurmScript(specWithOverrides());
  std::ofstream(stubs.file("job.sh")) << script;
  ASSERT_EQ(stubs.run("bash -n", stubs.file("job.sh").string(), true), 0) << script;

  stubs.add("srun", {"MASTER_ADDR", "MASTER_PORT"});
  stubs.addPrinter("scontrol", "node17\nnode18");
  ASSERT_EQ(
      stubs.run("bash", stubs.file("job.sh").string(), true, "SLURM_JOB_NODELIST='node[17-18]'"),
      0);
  EXPECT_EQ(stubs.recorded("srun"),
            (std::vector<std::string>{"MASTER_ADDR=node17", "MASTER_PORT=29600",
                                      "--kill-on-bad-exit=1", "--cpus-per-task=7", "syncbn-engine",
                                      "train", kConfigFile, "epochs=3", "name=a b", "--worker"}));
}

// ----- Kubeflow ----------------------------------------------------------------------------------

YAML::Node container(const YAML::Node& manifest, const std::string& replica) {
  return manifest["spec"]["pytorchReplicaSpecs"][replica]["template"]["spec"]["containers"][0];
}

TEST(KubeflowManifest, IsAValidPyTorchJob) {
  const LaunchSpec spec = specWithOverrides();
  const std::string text = kubeflowManifest(spec);
  YAML::Node manifest;
  ASSERT_NO_THROW(manifest = YAML::Load(text)) << text;
  EXPECT_EQ(manifest["apiVersion"].as<std::string>(), "kubeflow.org/v1");
  EXPECT_EQ(manifest["kind"].as<std::string>(), "PyTorchJob");
  EXPECT_EQ(manifest["metadata"]["name"].as<std::string>(), "my-run-1");
  // spec.nprocPerNode is a string in the v1 API: a quoted scalar ("!" tag), not the number 4.
  const YAML::Node nproc = manifest["spec"]["nprocPerNode"];
  EXPECT_EQ(nproc.as<std::string>(), "4");
  EXPECT_EQ(nproc.Tag(), "!");
  const YAML::Node replicas = manifest["spec"]["pytorchReplicaSpecs"];
  ASSERT_TRUE(replicas.IsMap());
  EXPECT_EQ(replicas.size(), 2u);
  EXPECT_EQ(replicas["Master"]["replicas"].as<int>(), 1);
  EXPECT_EQ(replicas["Worker"]["replicas"].as<int>(), 1);
  for (const std::string replica : {"Master", "Worker"}) {
    const YAML::Node c = container(manifest, replica);
    EXPECT_EQ(c["name"].as<std::string>(), "pytorch");
    EXPECT_EQ(c["image"].as<std::string>(), "syncbn-studio:latest");
    EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"].as<int>(), 4);
    EXPECT_EQ(c["ports"][0]["name"].as<std::string>(), "pytorchjob-port");
    EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), 29600);
    EXPECT_EQ(c["env"][0]["name"].as<std::string>(), "TORCH_DISABLE_SHARE_RDZV_TCP_STORE");
    EXPECT_EQ(c["env"][0]["value"].as<std::string>(), "1");
  }
}

TEST(KubeflowManifest, CommandRunsTorchrunLikeTheConfig) {
  const LaunchSpec spec = specWithOverrides();
  const YAML::Node command = container(YAML::Load(kubeflowManifest(spec)), "Worker")["command"];
  ASSERT_TRUE(command.IsSequence());
  ASSERT_EQ(command.size(), 3u);
  EXPECT_EQ(command[0].as<std::string>(), "/bin/sh");
  EXPECT_EQ(command[1].as<std::string>(), "-c");
  const auto words = shellWords(command[2].as<std::string>());
  ASSERT_GE(words.size(), 3u);
  EXPECT_EQ(words[0], "exec");
  EXPECT_EQ(words[1], "torchrun");
  EXPECT_EQ(words[2], "--no-python");
  EXPECT_EQ(flagValue(words, "--nnodes"), "2");
  EXPECT_EQ(flagValue(words, "--node-rank"), "$PET_NODE_RANK");
  EXPECT_EQ(flagValue(words, "--nproc-per-node"), "4");
  EXPECT_EQ(flagValue(words, "--rdzv-backend"), "c10d");
  EXPECT_EQ(flagValue(words, "--rdzv-endpoint"), "$MASTER_ADDR:$MASTER_PORT");
  EXPECT_EQ(
      fromEngine(words, spec.engine),
      (std::vector<std::string>{"syncbn-engine", "train", kConfigFile, "epochs=3", "name=a b"}));
}

TEST(KubeflowManifest, ShellExpandsTheOperatorsVariables) {
  if (::access("/bin/sh", X_OK) != 0) GTEST_SKIP() << "no /bin/sh";
  StubLaunchers stubs;
  stubs.add("torchrun", {"TORCH_DISABLE_SHARE_RDZV_TCP_STORE"});
  const YAML::Node c = container(YAML::Load(kubeflowManifest(specWithOverrides())), "Worker");
  const std::string environment =
      "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=" + c["env"][0]["value"].as<std::string>() +
      " PET_NODE_RANK=1 MASTER_ADDR=my-run-1-master-0 MASTER_PORT=29600";
  ASSERT_EQ(stubs.run(c["command"][0].as<std::string>(), c["command"][2].as<std::string>(), false,
                      environment),
            0);
  EXPECT_EQ(stubs.recorded("torchrun"),
            (std::vector<std::string>{
                "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1", "--no-python", "--nnodes", "2",
                "--node-rank", "1", "--nproc-per-node", "4", "--rdzv-backend", "c10d",
                "--rdzv-endpoint", "my-run-1-master-0:29600", "--rdzv-id", "My_Run__1",
                "syncbn-engine", "train", kConfigFile, "epochs=3", "name=a b"}));
}

TEST(KubeflowManifest, OneNodeHasNoWorkersAndCpuNoGpus) {
  Config config = twoNodesOfFourGpus();
  config.distributed.nnodes = 1;
  config.distributed.device = "cpu";
  const YAML::Node manifest = YAML::Load(kubeflowManifest(launchSpecFor(config, kConfigFile, 2)));
  EXPECT_EQ(manifest["spec"]["pytorchReplicaSpecs"].size(), 1u);
  EXPECT_FALSE(manifest["spec"]["pytorchReplicaSpecs"]["Worker"]);
  EXPECT_FALSE(container(manifest, "Master")["resources"]);
  EXPECT_EQ(manifest["spec"]["nprocPerNode"].as<std::string>(), "2");
}

TEST(KubeflowManifest, NamesThatLookLikeYamlStayStrings) {
  LaunchSpec spec = specWithOverrides();
  spec.jobName = "a: b #c \"d\" [e]";
  spec.image = "registry.example:5000/syncbn: #1";
  spec.configFile = "/cfg/{x}: y # z.yaml";
  const YAML::Node manifest = YAML::Load(kubeflowManifest(spec));
  EXPECT_EQ(manifest["metadata"]["name"].as<std::string>(), "a-b-c-d-e");
  const YAML::Node c = container(manifest, "Master");
  EXPECT_EQ(c["image"].as<std::string>(), spec.image);
  const auto words = shellWords(c["command"][2].as<std::string>());
  EXPECT_EQ(fromEngine(words, spec.engine)[2], spec.configFile);
}

// Kubernetes' own expansion of a container command: $(VAR) from the container's variables,
// $$ to $ (k8s.io/kubernetes third_party/forked/golang/expansion).
std::string kubernetesExpanded(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (text.compare(i, 2, "$(") == 0) {
      out += "<expanded>";
      i = text.find(')', i);
    } else {
      out += text[i];
    }
  }
  return out;
}

TEST(KubeflowManifest, KubernetesLeavesDollarsInPathsAlone) {
  LaunchSpec spec = specWithOverrides();
  spec.configFile = "/cfg/$(HOME)/$$/a$b.yaml";
  const YAML::Node c = container(YAML::Load(kubeflowManifest(spec)), "Master");
  const auto words = shellWords(kubernetesExpanded(c["command"][2].as<std::string>()));
  EXPECT_EQ(fromEngine(words, spec.engine)[2], spec.configFile);
  EXPECT_EQ(flagValue(words, "--node-rank"), "$PET_NODE_RANK");
}

TEST(KubernetesJobName, IsADns1035LabelTheOperatorCanSuffix) {
  EXPECT_EQ(kubernetesJobName("My Run #1", 2), "my-run-1");
  EXPECT_EQ(kubernetesJobName("exp", 1), "exp");
  EXPECT_EQ(kubernetesJobName("", 1), "syncbn");
  EXPECT_EQ(kubernetesJobName("2024", 1), "syncbn-2024");
  EXPECT_EQ(kubernetesJobName("--x__y--", 1), "x-y");
  for (const int nnodes : {1, 2, 11, 1001}) {
    const std::string name = kubernetesJobName(std::string(100, 'a') + "-b", nnodes);
    const std::string longestPod = name + "-worker-" + std::to_string(std::max(nnodes - 2, 0));
    EXPECT_LE(longestPod.size(), 63u) << nnodes;
    EXPECT_LE((name + "-master-0").size(), 63u);
    EXPECT_NE(name.back(), '-');
  }
}

}  // namespace
}  // namespace syncbn
