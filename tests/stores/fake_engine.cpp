// A scripted stand-in for syncbn-engine, for the tests of the studio's engine session. Called as
// the session calls the engine:
//
//   fake_engine train CONFIG [overrides...] --progress-socket PATH
//
// it runs the script named by $FAKE_ENGINE_SCRIPT, one command a line, and sends what it is told
// with the protocol's own encoder (core/common/protocol.h). The session token comes from
// $SYNCBN_SESSION_TOKEN. Plain C++ and POSIX: no Qt, so nothing of the code under test.
//
// Script syntax: blank lines and lines starting with '#' are ignored. A line is a command and its
// arguments, separated by blanks; an argument is positional or key=value; double quotes group
// blanks into one argument and take the escapes \" \\ \n \r \t. Numbers are as strtod reads them;
// a list is comma-separated. Relative file names are relative to the working directory, as the
// engine's run directories are.
//
//   connect [NAME]            connect to PATH (default name "main"); it becomes the current
//                             connection. Messages go to the current connection (nowhere if none).
//   use NAME                  make connection NAME current
//   close [NAME]              close a connection (default: the current one)
//   hello [token=T] [protocol=N] [v=N] [engine_version=S]
//                             the handshake; default token $SYNCBN_SESSION_TOKEN, protocol
//                             kProtocolVersion. v=N rewrites the envelope's version (the encoder
//                             writes 2).
//   run_started [dir=runs/fake] [epochs=1] [iterations=4] [world=2] [device=cpu] [norm=syncbn]
//               [global_batch=16] [per_rank_batch=8] [start_time=1764579600.5] [config_yaml=S]
//                             creates DIR/weights; later steps default to `world` ranks
//   dataset split=S [images=N] [instances=N] [backgrounds=N] [skipped=N]
//   step iteration=N [epoch=E] [time=T] [lr=X] [ips=X] [box=X] [cls=X] [dfl=X]
//        [rank_box=a,b,..] [rank_cls=..] [rank_dfl=..] [data_ms=..] [compute_ms=..] [comm_ms=..]
//                             per-rank lists have one entry per rank; without them every rank
//                             gets the mean losses and 10/100/5 ms
//   bn_stats iteration=N (layer=NAME divergence=X mean=a,b var=a,b)...
//   val epoch=E [time=T] [precision=X] [recall=X] [map50=X] [map50_95=X] [fitness=X]
//       (class=NAME:IMAGES:INSTANCES:P:R:MAP50:MAP50_95)...
//   checkpoint kind=last|best|interval epoch=E iteration=N [file=weights/KIND.pt]
//                             writes RUN_DIR/FILE (from the last run_started), then sends its path
//   log level=L rank=R text=S
//   rank_exit rank=R [exit_code=C] [signal=S] [reason=S]
//   finished status=S [epochs=N] [best_fitness=X] [map50=X] [map50_95=X] [best=PATH] [error=S]
//   raw TEXT                  TEXT and "\n" on the current connection, unchecked
//   raw_partial TEXT          TEXT without "\n"
//   oversized BYTES           one line of BYTES bytes (a `log` padded with 'x') and "\n"
//   events FILE               also append every message from here on (not hello) to FILE, one
//                             write(2) per line, as the engine's --events does
//   out TEXT | err TEXT       TEXT and "\n" on stdout | stderr
//   out_partial TEXT | err_partial TEXT   without "\n"
//   sleep MS
//   wait_command TYPE [timeout=MS]   wait (default 5000 ms) for command TYPE (stop,
//                             checkpoint_now) on the current connection; exit 3 without it
//   wait_file FILE [timeout=MS]      wait (default 5000 ms) until FILE exists; exit 3 without it
//   expect_closed [timeout=MS]       wait (default 3000 ms) for the studio to close the current
//                             connection; prints "[fake] NAME: closed by the studio" or
//                             "[fake] NAME: still open" on stdout
//   argv FILE                 writes argv, one argument a line
//   token FILE                writes the token found in the environment
//   touch FILE
//   copy_config FILE          copies the CONFIG argument to FILE
//   sigterm default|ignore|ignore_first   ignore_first: like the launcher, which takes a first
//                             SIGTERM as "stop" and dies of the second
//   wait_sigterm [timeout=MS] after `sigterm ignore_first`: wait (default 5000 ms) for that first
//                             SIGTERM; exit 3 without it
//   crash abort|kill|segv     dies of SIGABRT, SIGKILL or SIGSEGV (no core file)
//   exit CODE                 the end of the script is `exit 0`
//
// Problems with the script or the socket are written to stderr, and the fake exits with 2.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/protocol.h"

namespace {

namespace fs = std::filesystem;
namespace protocol = syncbn::protocol;
using Clock = std::chrono::steady_clock;

struct ScriptError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- the script's syntax ----

struct Command {
  int line = 0;
  std::string name;
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;  // in order; keys may repeat

  bool has(const std::string& key) const {
    for (const auto& [k, v] : named)
      if (k == key) return true;
    return false;
  }
  std::string text(const std::string& key, const std::string& fallback = {}) const {
    for (const auto& [k, v] : named)
      if (k == key) return v;
    return fallback;
  }
  double number(const std::string& key, double fallback) const {
    return has(key) ? toNumber(text(key)) : fallback;
  }
  long long integer(const std::string& key, long long fallback) const {
    return has(key) ? static_cast<long long>(toNumber(text(key))) : fallback;
  }
  std::vector<double> list(const std::string& key) const {
    std::vector<double> values;
    if (!has(key)) return values;
    std::stringstream in(text(key));
    for (std::string item; std::getline(in, item, ',');)
      values.push_back(toNumber(item));
    return values;
  }
  std::string arg(std::size_t i) const {
    if (i >= positional.size())
      throw ScriptError("line " + std::to_string(line) + ": " + name + " needs an argument");
    return positional[i];
  }
  std::string argOr(std::size_t i, const std::string& fallback) const {
    return i < positional.size() ? positional[i] : fallback;
  }
  double toNumber(const std::string& s) const {
    char* end = nullptr;
    const double value = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0')
      throw ScriptError("line " + std::to_string(line) + ": not a number: " + s);
    return value;
  }
};

// Splits at blanks outside double quotes; a `key=value` token whose key is a plain word is named.
Command parseLine(const std::string& line, int number) {
  Command command;
  command.line = number;
  std::vector<std::string> tokens;
  std::string token;
  bool inToken = false, quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        quoted = false;
      } else if (c == '\\' && i + 1 < line.size()) {
        const char e = line[++i];
        token += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
      } else {
        token += c;
      }
    } else if (c == '"') {
      quoted = inToken = true;
    } else if (c == ' ' || c == '\t') {
      if (inToken) tokens.push_back(std::exchange(token, {}));
      inToken = false;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (quoted) throw ScriptError("line " + std::to_string(number) + ": unterminated quote");
  if (inToken) tokens.push_back(token);
  if (tokens.empty()) return command;
  command.name = tokens[0];
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    const std::size_t eq = t.find('=');
    const bool named = eq != std::string::npos && eq > 0 &&
                       t.find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789") == eq;
    if (named)
      command.named.emplace_back(t.substr(0, eq), t.substr(eq + 1));
    else
      command.positional.push_back(t);
  }
  return command;
}

// ---- output ----

void writeAll(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category());
    done += static_cast<std::size_t>(n);
  }
}

void say(int fd, const std::string& text) {
  try {
    writeAll(fd, text);
  } catch (const std::exception&) {
    // stdout or stderr closed: nobody to tell
  }
}

volatile sig_atomic_t sigtermsIgnored = 0;

void ignoreFirstSigterm(int) {
  if (sigtermsIgnored == 0) {
    sigtermsIgnored = 1;
    constexpr char kText[] = "[fake] got SIGTERM; ignoring the first one\n";
    [[maybe_unused]] const ssize_t n = ::write(1, kText, sizeof kText - 1);
    return;
  }
  ::signal(SIGTERM, SIG_DFL);
  ::raise(SIGTERM);
}

void sleepFor(std::chrono::milliseconds duration) {
  const auto deadline = Clock::now() + duration;
  while (Clock::now() < deadline)  // a signal handler may cut a sleep short
    std::this_thread::sleep_for(deadline - Clock::now());
}

std::vector<std::string> splitNumbers(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, separator);)
    parts.push_back(part);
  return parts;
}

// ---- the fake ----

class FakeEngine {
 public:
  FakeEngine(std::vector<std::string> argv) : argv_(std::move(argv)) {
    for (std::size_t i = 0; i + 1 < argv_.size(); ++i)
      if (argv_[i] == "--progress-socket") socketPath_ = argv_[i + 1];
    if (argv_.size() > 2 && argv_[1] == "train") configPath_ = argv_[2];
    if (const char* token = std::getenv("SYNCBN_SESSION_TOKEN")) token_ = token;
  }
  ~FakeEngine() {
    for (auto& [name, connection] : connections_)
      ::close(connection.fd);
    if (eventsFd_ >= 0) ::close(eventsFd_);
  }

  int run(const std::string& scriptPath) {
    std::ifstream script(scriptPath);
    if (!script) throw ScriptError("cannot read the script " + scriptPath);
    int number = 0;
    for (std::string line; std::getline(script, line);) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::size_t first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      const Command command = parseLine(line, number);
      if (command.name == "exit") return static_cast<int>(command.toNumber(command.arg(0)));
      execute(command);
    }
    return 0;
  }

 private:
  struct Connection {
    int fd = -1;
    protocol::LineSplitter lines;
    std::deque<std::string> commands;  // types received, not yet waited for
    bool closedByPeer = false;
  };

  void execute(const Command& c) {
    const std::string& n = c.name;
    if (n == "connect") return connect(c.argOr(0, "main"));
    if (n == "use") return use(c.arg(0));
    if (n == "close") return closeConnection(c.argOr(0, current_));
    if (n == "hello") return hello(c);
    if (n == "run_started") return runStarted(c);
    if (n == "dataset") return dataset(c);
    if (n == "step") return step(c);
    if (n == "bn_stats") return bnStats(c);
    if (n == "val") return val(c);
    if (n == "checkpoint") return checkpoint(c);
    if (n == "log")
      return message(protocol::Log{c.text("level", "info"), static_cast<int>(c.integer("rank", 0)),
                                   c.text("text")});
    if (n == "rank_exit")
      return message(protocol::RankExit{
          static_cast<int>(c.integer("rank", 0)), static_cast<int>(c.integer("exit_code", 1)),
          static_cast<int>(c.integer("signal", 0)), c.text("reason", "exited with code 1")});
    if (n == "finished") return finished(c);
    if (n == "raw") return sendRaw(c.arg(0) + "\n");
    if (n == "raw_partial") return sendRaw(c.arg(0));
    if (n == "oversized") return oversized(static_cast<std::size_t>(c.toNumber(c.arg(0))));
    if (n == "events") return openEvents(c.arg(0));
    if (n == "out") return say(1, c.arg(0) + "\n");
    if (n == "err") return say(2, c.arg(0) + "\n");
    if (n == "out_partial") return say(1, c.arg(0));
    if (n == "err_partial") return say(2, c.arg(0));
    if (n == "sleep")
      return sleepFor(std::chrono::milliseconds(static_cast<long long>(c.toNumber(c.arg(0)))));
    if (n == "wait_command") return waitCommand(c.arg(0), c.integer("timeout", 5000));
    if (n == "expect_closed") return expectClosed(c.integer("timeout", 3000));
    if (n == "wait_file") return waitFile(c.arg(0), c.integer("timeout", 5000));
    if (n == "argv") return writeLines(c.arg(0), argv_);
    if (n == "token") return writeLines(c.arg(0), {token_});
    if (n == "touch") return writeLines(c.arg(0), {});
    if (n == "copy_config")
      return (void)fs::copy_file(configPath_, c.arg(0), fs::copy_options::overwrite_existing);
    if (n == "sigterm") return sigterm(c.arg(0));
    if (n == "wait_sigterm") return waitSigterm(c.integer("timeout", 5000));
    if (n == "crash") return crash(c.arg(0));
    throw ScriptError("line " + std::to_string(c.line) + ": unknown command " + n);
  }

  // ---- connections ----

  void connect(const std::string& name) {
    if (socketPath_.empty()) throw ScriptError("connect: no --progress-socket on the command line");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socketPath_.size() >= sizeof(address.sun_path))
      throw ScriptError("connect: socket path too long: " + socketPath_);
    std::memcpy(address.sun_path, socketPath_.c_str(), socketPath_.size() + 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
      throw ScriptError("cannot connect to " + socketPath_ + ": " + std::strerror(errno));
    if (connections_.count(name)) ::close(connections_[name].fd);
    connections_[name] = Connection{};
    connections_[name].fd = fd;
    current_ = name;
  }

  void use(const std::string& name) {
    if (!connections_.count(name)) throw ScriptError("use: no connection named " + name);
    current_ = name;
  }

  void closeConnection(const std::string& name) {
    const auto it = connections_.find(name);
    if (it == connections_.end()) throw ScriptError("close: no connection named " + name);
    ::close(it->second.fd);
    connections_.erase(it);
    if (current_ == name) current_.clear();
  }

  Connection* current() {
    const auto it = connections_.find(current_);
    return it == connections_.end() ? nullptr : &it->second;
  }

  void sendRaw(const std::string& bytes) {
    Connection* connection = current();
    if (connection == nullptr) return;
    try {
      writeAll(connection->fd, bytes);
    } catch (const std::system_error& e) {
      // The studio closed it; what a refused peer sees. Said once, not fatal.
      if (!connection->closedByPeer)
        say(2, "[fake] " + current_ + ": write failed: " + e.what() + "\n");
      connection->closedByPeer = true;
    }
  }

  void message(const protocol::Message& m) {
    const std::string line = protocol::encode(m);
    if (eventsFd_ >= 0) writeAll(eventsFd_, line);
    sendRaw(line);
  }

  void openEvents(const std::string& file) {
    if (eventsFd_ >= 0) ::close(eventsFd_);
    if (fs::path(file).has_parent_path()) fs::create_directories(fs::path(file).parent_path());
    eventsFd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (eventsFd_ < 0) throw ScriptError("cannot open " + file + ": " + std::strerror(errno));
  }

  // Reads what is there (or waits up to `timeout` for something); false once the peer closed.
  bool receive(Connection& connection, std::chrono::milliseconds timeout) {
    if (connection.closedByPeer) return false;
    pollfd p{connection.fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (ready <= 0) return true;
    char buffer[4096];
    const ssize_t n = ::read(connection.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
      connection.closedByPeer = true;
      return false;
    }
    for (const auto& result :
         connection.lines.feedAndDecode(std::string_view(buffer, static_cast<std::size_t>(n)))) {
      const std::string type =
          result.ok() ? std::string(protocol::typeName(result.value())) : "(bad line)";
      say(1, "[fake] " + current_ + ": received " + type + "\n");
      connection.commands.push_back(type);
    }
    return true;
  }

  void waitCommand(const std::string& type, long long timeoutMs) {
    Connection* connection = current();
    if (connection == nullptr) throw ScriptError("wait_command: not connected");
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (true) {
      for (auto it = connection->commands.begin(); it != connection->commands.end(); ++it)
        if (*it == type) {
          connection->commands.erase(it);
          return;
        }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !receive(*connection, left)) {
        say(2,
            "[fake] error: no " + type + " command within " + std::to_string(timeoutMs) + " ms\n");
        std::exit(3);
      }
    }
  }

  void expectClosed(long long timeoutMs) {
    Connection* connection = current();
    if (connection == nullptr) throw ScriptError("expect_closed: not connected");
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (Clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!receive(*connection, left)) {
        say(1, "[fake] " + current_ + ": closed by the studio\n");
        return;
      }
    }
    say(1, "[fake] " + current_ + ": still open\n");
  }

  // ---- messages ----

  void hello(const Command& c) {
    protocol::Hello h;
    h.protocol = static_cast<int>(c.integer("protocol", protocol::kProtocolVersion));
    h.engine_version = c.text("engine_version", "0.0.0-fake");
    h.token = c.has("token") ? c.text("token") : token_;
    std::string line = protocol::encode(h);
    if (c.has("v")) {
      const std::string envelope = "{\"v\":" + std::to_string(protocol::kProtocolVersion) + ",";
      if (line.rfind(envelope, 0) != 0) throw ScriptError("hello: unexpected encoding " + line);
      line.replace(0, envelope.size(), "{\"v\":" + c.text("v") + ",");
    }
    sendRaw(line);  // never to the events file: it carries the token
  }

  void runStarted(const Command& c) {
    protocol::RunStarted r;
    r.run_dir = c.text("dir", "runs/fake");
    r.start_time = c.number("start_time", 1764579600.5);
    r.world_size = static_cast<int>(c.integer("world", 2));
    r.device = c.text("device", "cpu");
    r.norm = c.text("norm", "syncbn");
    r.epochs = static_cast<int>(c.integer("epochs", 1));
    r.iterations_per_epoch = static_cast<int>(c.integer("iterations", 4));
    r.global_batch = static_cast<int>(c.integer("global_batch", 16));
    r.per_rank_batch = static_cast<int>(c.integer("per_rank_batch", 8));
    r.config_yaml = c.text("config_yaml", "train:\n  epochs: 1\n");
    fs::create_directories(fs::path(r.run_dir) / "weights");
    runDir_ = r.run_dir;
    world_ = r.world_size;
    message(r);
  }

  void dataset(const Command& c) {
    protocol::DatasetSummary d;
    d.data = c.text("data", "data.yaml");
    d.split = c.text("split", "train");
    d.images = static_cast<int>(c.integer("images", 16));
    d.backgrounds = static_cast<int>(c.integer("backgrounds", 0));
    d.skipped = static_cast<int>(c.integer("skipped", 0));
    d.instances = static_cast<int>(c.integer("instances", 32));
    message(d);
  }

  void step(const Command& c) {
    protocol::Step s;
    s.epoch = static_cast<int>(c.integer("epoch", 0));
    s.iteration = c.integer("iteration", 0);
    s.time = c.number("time", 1.0 + static_cast<double>(s.iteration));
    s.losses = {
        {"box", c.number("box", 1)}, {"cls", c.number("cls", 1)}, {"dfl", c.number("dfl", 1)}};
    s.lr = c.number("lr", 0.01);
    s.images_per_second = c.number("ips", 40);
    const auto perRank = [&](const std::string& key, double fallback) {
      std::vector<double> values = c.list(key);
      if (values.empty()) values.assign(static_cast<std::size_t>(world_), fallback);
      if (values.size() != static_cast<std::size_t>(world_))
        throw ScriptError("line " + std::to_string(c.line) + ": " + key + " needs " +
                          std::to_string(world_) + " values");
      return values;
    };
    const auto box = perRank("rank_box", s.losses["box"]);
    const auto cls = perRank("rank_cls", s.losses["cls"]);
    const auto dfl = perRank("rank_dfl", s.losses["dfl"]);
    const auto data = perRank("data_ms", 10), compute = perRank("compute_ms", 100),
               comm = perRank("comm_ms", 5);
    for (std::size_t r = 0; r < static_cast<std::size_t>(world_); ++r) {
      s.rank_losses.push_back({{"box", box[r]}, {"cls", cls[r]}, {"dfl", dfl[r]}});
      s.ranks.push_back({static_cast<int>(r), data[r], compute[r], comm[r]});
    }
    message(s);
  }

  void bnStats(const Command& c) {
    protocol::BnStats b;
    b.iteration = c.integer("iteration", 0);
    for (const auto& [key, value] : c.named) {
      if (key == "layer") {
        protocol::BnLayerStats layer;
        layer.layer = value;
        b.layers.push_back(std::move(layer));
      }
      if (b.layers.empty()) continue;
      if (key == "divergence") b.layers.back().divergence = c.toNumber(value);
      if (key == "mean" || key == "var")
        for (const std::string& item : splitNumbers(value, ','))
          (key == "mean" ? b.layers.back().rank_mean : b.layers.back().rank_var)
              .push_back(c.toNumber(item));
    }
    message(b);
  }

  void val(const Command& c) {
    protocol::Val v;
    v.epoch = static_cast<int>(c.integer("epoch", 0));
    v.time = c.number("time", 10);
    v.precision = c.number("precision", 0.5);
    v.recall = c.number("recall", 0.5);
    v.map50 = c.number("map50", 0.5);
    v.map50_95 = c.number("map50_95", 0.3);
    v.fitness = c.number("fitness", 0.32);
    for (const auto& [key, value] : c.named) {
      if (key != "class") continue;
      const std::vector<std::string> f = splitNumbers(value, ':');
      if (f.size() != 7)
        throw ScriptError("line " + std::to_string(c.line) + ": class=NAME:I:N:P:R:M50:M5095");
      v.classes.push_back({f[0], static_cast<int>(c.toNumber(f[1])),
                           static_cast<int>(c.toNumber(f[2])), c.toNumber(f[3]), c.toNumber(f[4]),
                           c.toNumber(f[5]), c.toNumber(f[6])});
    }
    message(v);
  }

  void checkpoint(const Command& c) {
    protocol::Checkpoint k;
    k.kind = c.text("kind", "last");
    k.epoch = static_cast<int>(c.integer("epoch", 0));
    k.iteration = c.integer("iteration", 0);
    const fs::path file = fs::path(runDir_) / c.text("file", "weights/" + k.kind + ".pt");
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "fake checkpoint: " << k.kind << " epoch " << k.epoch << " iteration "
                        << k.iteration << "\n";
    k.path = file.string();
    message(k);
  }

  void finished(const Command& c) {
    protocol::Finished f;
    f.status = c.text("status", "completed");
    f.epochs_completed = static_cast<int>(c.integer("epochs", 1));
    f.best_fitness = c.number("best_fitness", 0);
    f.map50 = c.number("map50", 0);
    f.map50_95 = c.number("map50_95", 0);
    f.best_checkpoint = c.text("best", "");
    f.error = c.text("error", "");
    message(f);
  }

  void oversized(std::size_t bytes) {
    std::string line = protocol::encode(protocol::Log{"info", 0, ""});
    line.pop_back();                            // "\n"
    const std::size_t close = line.size() - 2;  // before the text's closing quote and '}'
    if (bytes < line.size()) throw ScriptError("oversized: too small");
    line.insert(close, bytes - line.size(), 'x');
    sendRaw(line + "\n");
  }

  // ---- the process ----

  static void writeLines(const std::string& file, const std::vector<std::string>& lines) {
    std::ofstream out(file);
    for (const std::string& line : lines)
      out << line << "\n";
    if (!out) throw ScriptError("cannot write " + file);
  }

  static void sigterm(const std::string& how) {
    if (how == "default") {
      ::signal(SIGTERM, SIG_DFL);
    } else if (how == "ignore") {
      ::signal(SIGTERM, SIG_IGN);
    } else if (how == "ignore_first") {
      struct sigaction action {};
      action.sa_handler = ignoreFirstSigterm;
      ::sigaction(SIGTERM, &action, nullptr);
    } else {
      throw ScriptError("sigterm: default, ignore or ignore_first, not " + how);
    }
  }

  static void waitFile(const std::string& file, long long timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!fs::exists(file)) {
      if (Clock::now() > deadline) {
        say(2, "[fake] error: no " + file + " within " + std::to_string(timeoutMs) + " ms\n");
        std::exit(3);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  static void waitSigterm(long long timeoutMs) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (sigtermsIgnored == 0) {
      if (Clock::now() > deadline) {
        say(2, "[fake] error: no SIGTERM within " + std::to_string(timeoutMs) + " ms\n");
        std::exit(3);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  static void crash(const std::string& how) {
    const rlimit noCore{0, 0};
    ::setrlimit(RLIMIT_CORE, &noCore);
    if (how == "abort") std::abort();
    if (how == "kill") ::raise(SIGKILL);
    if (how == "segv") {
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    }
    throw ScriptError("crash: abort, kill or segv, not " + how);
  }

  std::vector<std::string> argv_;
  std::string socketPath_, configPath_, token_;
  std::map<std::string, Connection> connections_;
  std::string current_;
  int eventsFd_ = -1;
  std::string runDir_ = "runs/fake";
  int world_ = 2;
};

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);  // a refused connection is an EPIPE, reported, not a death
  // The studio's pages ask any engine these in the background; the scripts are for the runs
  // and one-shot tasks the tests drive, so these are refused without touching them.
  if (argc > 1) {
    const std::string command = argv[1];
    if (command == "devices" || command == "model-info" || command == "check-data") {
      say(2, "error: " + command + ": not scripted in the fake engine\n");
      return 1;
    }
  }
  const char* script = std::getenv("FAKE_ENGINE_SCRIPT");
  if (script == nullptr) {
    say(2, "fake_engine: FAKE_ENGINE_SCRIPT is not set\n");
    return 2;
  }
  try {
    FakeEngine fake(std::vector<std::string>(argv, argv + argc));
    return fake.run(script);
  } catch (const std::exception& e) {
    say(2, std::string("fake_engine: error: ") + e.what() + "\n");
    return 2;
  }
}
