#include "train/progress_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "common/version.h"
#include "dist/file_descriptor.h"

namespace syncbn::train {
namespace {

using dist::FileDescriptor;
using Clock = std::chrono::steady_clock;

// A GUI sending garbage in a loop must not flood the events file with complaints about it.
constexpr std::uint64_t kMaxLoggedIgnoredLines = 20;
// Bytes read from the GUI per writer round, so that a chatty GUI cannot starve the writes.
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kReadChunksPerRound = 16;
// A non-blocking connect to a GUI that accepts slowly (not on Linux, where it never waits).
constexpr int kConnectTimeoutMs = 5000;

std::string reasonOf(int error) {
  return std::system_category().message(error);
}

struct EventsFile {
  std::filesystem::path path;
  FileDescriptor fd;
};

// Opens each file for appending, once per file: a second path to a file already open (the same
// device and inode) is skipped.
std::vector<EventsFile> openEventsFiles(const std::vector<std::filesystem::path>& paths) {
  std::vector<EventsFile> files;
  std::vector<std::pair<dev_t, ino_t>> opened;
  for (const auto& path : paths) {
    if (path.empty()) continue;
    FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd.isOpen())
      throw std::runtime_error("cannot open events file " + path.string() + ": " + reasonOf(errno));
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0)
      throw std::runtime_error("cannot open events file " + path.string() + ": " + reasonOf(errno));
    const std::pair<dev_t, ino_t> identity{status.st_dev, status.st_ino};
    if (std::find(opened.begin(), opened.end(), identity) != opened.end()) continue;
    opened.push_back(identity);
    files.push_back({path, std::move(fd)});
  }
  return files;
}

FileDescriptor connectToGui(const std::filesystem::path& path) {
  const std::string name = path.string();
  const std::string what = "cannot connect to the progress socket " + name + ": ";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (name.size() >= sizeof(address.sun_path))
    throw std::runtime_error(what + "the path is " + std::to_string(name.size()) +
                             " bytes long; the system allows " +
                             std::to_string(sizeof(address.sun_path) - 1));
  std::memcpy(address.sun_path, name.c_str(), name.size() + 1);

  FileDescriptor socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.isOpen()) throw std::runtime_error(what + reasonOf(errno));
  dist::setNonBlocking(socket);
#ifdef SO_NOSIGPIPE
  // Where send() has no MSG_NOSIGNAL, this keeps a vanished GUI from raising SIGPIPE.
  const int on = 1;
  ::setsockopt(socket.get(), SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
#endif
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0)
    return socket;
  if (errno == EAGAIN)
    throw std::runtime_error(what + "the GUI is not accepting connections (backlog full)");
  if (errno != EINPROGRESS) throw std::runtime_error(what + reasonOf(errno));
  pollfd ready{.fd = socket.get(), .events = POLLOUT, .revents = 0};
  if (::poll(&ready, 1, kConnectTimeoutMs) <= 0) throw std::runtime_error(what + "timed out");
  int error = 0;
  socklen_t size = sizeof(error);
  if (::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error != 0) throw std::runtime_error(what + reasonOf(error));
  return socket;
}

// Returns 0 or the errno of the failure.
int writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return 0;
}

}  // namespace

std::string sessionTokenFromEnvironment() {
  const char* const token = std::getenv(kSessionTokenVariable);
  return token != nullptr ? token : "";
}

struct ProgressChannel::State {
  explicit State(ProgressChannelOptions o) : options(std::move(o)) {}

  void writeToFile(const std::string& line);
  void enqueueForGui(std::string line);
  void log(std::string_view level, std::string text);
  void ignoreLine(const std::string& why);
  void acceptLine(const protocol::DecodeResult& line);
  void wakeWriter();
  void drainWake();
  void runWriter();

  const ProgressChannelOptions options;
  std::vector<EventsFile> files;
  bool holding = false;           // guarded by publishMutex: heldEventsFile not yet committed
  std::vector<std::string> held;  // guarded by publishMutex: its lines until then
  std::string connectionWarning;

  // Held while a line goes to the file and into the queue, so both see the same order.
  std::mutex publishMutex;
  bool closed = false;    // guarded by publishMutex
  std::string fileError;  // guarded by publishMutex: the writer thread's failed file write

  FileDescriptor socket;
  dist::Pipe wake;  // a byte here wakes the writer thread from poll()
  std::thread writer;

  std::mutex queueMutex;
  std::deque<std::string> queue;  // encoded lines for the GUI; guarded by queueMutex
  std::size_t queuedBytes = 0;    // guarded by queueMutex
  bool connected = false;         // guarded by queueMutex: the GUI still takes lines
  bool closing = false;           // guarded by queueMutex
  Clock::time_point closeBy;      // guarded by queueMutex

  std::mutex commandMutex;
  std::vector<protocol::Message> commands;  // guarded by commandMutex

  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> losses{0};
  std::atomic<std::uint64_t> ignored{0};
};

void ProgressChannel::State::writeToFile(const std::string& line) {
  if (holding) held.push_back(line);
  for (const EventsFile& file : files)
    if (const int error = writeAll(file.fd.get(), line); error != 0)
      throw std::runtime_error("cannot write events file " + file.path.string() + ": " +
                               reasonOf(error));
}

void ProgressChannel::State::enqueueForGui(std::string line) {
  const std::lock_guard lock(queueMutex);
  if (!connected || closing) return;
  if (queue.size() >= options.maxQueuedEvents ||
      queuedBytes + line.size() > options.maxQueuedBytes) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queuedBytes += line.size();
  queue.push_back(std::move(line));
  // The writer waits for a wake only with nothing to write; it re-checks the queue after each
  // line, so only the first line into an empty queue needs one.
  if (queue.size() == 1) wakeWriter();
}

void ProgressChannel::State::wakeWriter() {
  const char byte = 1;
  // EAGAIN: the pipe is full of wake bytes already, which is as good.
  [[maybe_unused]] const ssize_t ignoredResult = ::write(wake.writeEnd.get(), &byte, 1);
}

void ProgressChannel::State::drainWake() {
  std::array<char, 256> bytes;
  while (::read(wake.readEnd.get(), bytes.data(), bytes.size()) > 0) {
  }
}

// The channel's own messages, from the writer thread. A failed file write cannot be thrown
// here; publish() and close() report it.
void ProgressChannel::State::log(std::string_view level, std::string text) {
  std::string line = protocol::encode(
      protocol::Log{.level = std::string(level), .rank = -1, .text = std::move(text)});
  const std::lock_guard lock(publishMutex);
  try {
    writeToFile(line);
  } catch (const std::runtime_error& error) {
    if (fileError.empty()) fileError = error.what();
  }
  enqueueForGui(std::move(line));
}

void ProgressChannel::State::ignoreLine(const std::string& why) {
  const std::uint64_t count = ignored.fetch_add(1, std::memory_order_relaxed) + 1;
  if (count <= kMaxLoggedIgnoredLines) log("warning", "ignored a line from the GUI: " + why);
  if (count == kMaxLoggedIgnoredLines)
    log("warning", "further ignored lines from the GUI are counted but not logged");
}

void ProgressChannel::State::acceptLine(const protocol::DecodeResult& line) {
  if (!line.ok()) return ignoreLine(line.error().reason);
  const protocol::Message& message = line.value();
  if (!std::holds_alternative<protocol::Stop>(message) &&
      !std::holds_alternative<protocol::CheckpointNow>(message))
    return ignoreLine("\"" + std::string(protocol::typeName(message)) + "\" is not a command");
  const std::lock_guard lock(commandMutex);
  if (commands.size() >= options.maxQueuedCommands)
    return ignoreLine(std::to_string(commands.size()) + " commands are already waiting");
  commands.push_back(message);
}

// Writes `hello` and then the queued lines with non-blocking sends, and reads commands once
// `hello` is out. Ends when the connection breaks, or on close() once the queue is written or
// the deadline passed.
void ProgressChannel::State::runWriter() {
  std::string current = protocol::encode(protocol::Hello{.protocol = protocol::kProtocolVersion,
                                                         .engine_version = kVersion,
                                                         .token = options.sessionToken});
  std::size_t sent = 0;
  bool helloSent = false;
  protocol::LineSplitter splitter;
  std::string lost;  // why the connection broke; empty while it holds

  const auto readCommands = [&]() -> std::string {
    std::string buffer(kReadChunk, '\0');
    for (int chunk = 0; chunk < kReadChunksPerRound; ++chunk) {
      const ssize_t got = ::recv(socket.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got == 0) return "the GUI closed the connection";
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return "";
        return reasonOf(errno);
      }
      for (const auto& line :
           splitter.feedAndDecode(std::string_view(buffer.data(), static_cast<std::size_t>(got))))
        acceptLine(line);
    }
    return "";
  };

  while (true) {
    bool closingNow = false;
    Clock::time_point deadline;
    {
      const std::lock_guard lock(queueMutex);
      if (sent == current.size() && !queue.empty()) {
        current = std::move(queue.front());
        queue.pop_front();
        queuedBytes -= current.size();
        sent = 0;
      }
      closingNow = closing;
      deadline = closeBy;
    }
    const bool pending = sent < current.size();
    const auto now = Clock::now();
    if (closingNow && (!pending || now >= deadline)) break;

    std::array<pollfd, 2> fds{};
    fds[0] = {.fd = socket.get(),
              .events = static_cast<short>((pending ? POLLOUT : 0) | (helloSent ? POLLIN : 0)),
              .revents = 0};
    fds[1] = {.fd = wake.readEnd.get(), .events = POLLIN, .revents = 0};
    int timeoutMs = -1;
    if (closingNow)
      timeoutMs =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count());
    if (::poll(fds.data(), fds.size(), timeoutMs) < 0) {
      if (errno == EINTR) continue;
      lost = "poll: " + reasonOf(errno);
      break;
    }
    if (fds[1].revents != 0) drainWake();

    const short events = fds[0].revents;
    if (events & (POLLERR | POLLNVAL)) {
      int error = 0;
      socklen_t size = sizeof(error);
      ::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &size);
      lost = error != 0 ? reasonOf(error) : "socket error";
      break;
    }
    if (events & (POLLIN | POLLHUP)) {
      // Before `hello` is out nothing is read, so a hang-up then is the end.
      lost = helloSent ? readCommands() : "the GUI closed the connection";
      if (!lost.empty()) break;
    }
    if (pending && (events & POLLOUT)) {
      const ssize_t written = ::send(socket.get(), current.data() + sent, current.size() - sent,
                                     MSG_DONTWAIT | MSG_NOSIGNAL);
      if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        lost = reasonOf(errno);
        break;
      }
      if (written > 0) sent += static_cast<std::size_t>(written);
      if (sent == current.size()) helloSent = true;
    }
  }

  // An event cut off mid-line is lost too; `hello` is not an event.
  std::uint64_t undelivered = (helloSent && sent < current.size()) ? 1 : 0;
  {
    const std::lock_guard lock(queueMutex);
    undelivered += queue.size();
    queue.clear();
    queuedBytes = 0;
    connected = false;
  }
  dropped.fetch_add(undelivered, std::memory_order_relaxed);
  ::shutdown(socket.get(), SHUT_RDWR);
  if (!lost.empty()) {
    losses.store(1, std::memory_order_relaxed);
    log("warning", "lost the connection to the GUI on " + options.progressSocket.string() + " (" +
                       lost + "); events go on to the events file" +
                       (files.size() == 1 ? "" : "s") + " only");
  }
}

ProgressChannel::ProgressChannel(ProgressChannelOptions options)
    : state_(std::make_unique<State>(std::move(options))) {
  State& state = *state_;
  state.files = openEventsFiles(state.options.eventsFiles);
  state.holding = !state.options.heldEventsFile.empty();
  if (!state.options.progressSocket.empty()) {
    try {
      state.socket = connectToGui(state.options.progressSocket);
    } catch (const std::runtime_error& error) {
      if (state.options.requireSocket) {
        // The files are the run's record: they hear why it ends before anyone else does.
        state.holding = false;  // a run that never started leaves a held file untouched
        state.writeToFile(protocol::encode(protocol::Log{"error", -1, error.what()}));
        protocol::Finished finished;
        finished.status = "failed";
        finished.error = error.what();
        state.writeToFile(protocol::encode(finished));
        throw;
      }
      state.connectionWarning =
          std::string(error.what()) + "; the run goes on, its events go to the events files only";
      state.writeToFile(protocol::encode(protocol::Log{"warning", -1, state.connectionWarning}));
      return;
    }
    state.wake = dist::makePipe();
    dist::setNonBlocking(state.wake.readEnd);
    dist::setNonBlocking(state.wake.writeEnd);
    state.connected = true;
    state.writer = std::thread([&state] { state.runWriter(); });
  }
}

ProgressChannel::~ProgressChannel() {
  try {
    close();
  } catch (const std::exception&) {
    // Destructors must not throw; close() reports the error to callers that ask.
  }
}

void ProgressChannel::publish(const protocol::Message& message) {
  std::string line = protocol::encode(message);
  State& state = *state_;
  const std::lock_guard lock(state.publishMutex);
  if (state.closed) throw std::logic_error("ProgressChannel::publish after close()");
  if (!state.fileError.empty()) throw std::runtime_error(state.fileError);
  state.writeToFile(line);
  state.enqueueForGui(std::move(line));
}

const std::string& ProgressChannel::connectionWarning() const {
  return state_->connectionWarning;
}

void ProgressChannel::commit() {
  State& state = *state_;
  const std::lock_guard lock(state.publishMutex);
  if (!state.holding || state.closed) return;
  std::vector<EventsFile> opened = openEventsFiles({state.options.heldEventsFile});
  state.holding = false;
  const std::vector<std::string> lines = std::exchange(state.held, {});
  for (EventsFile& file : opened) {
    // Named twice (as --events too), it has every line already.
    struct stat status {};
    bool known = false;
    if (::fstat(file.fd.get(), &status) == 0)
      for (const EventsFile& other : state.files) {
        struct stat otherStatus {};
        known =
            known || (::fstat(other.fd.get(), &otherStatus) == 0 &&
                      otherStatus.st_dev == status.st_dev && otherStatus.st_ino == status.st_ino);
      }
    if (known) continue;
    for (const std::string& line : lines)
      if (const int error = writeAll(file.fd.get(), line); error != 0)
        throw std::runtime_error("cannot write events file " + file.path.string() + ": " +
                                 reasonOf(error));
    state.files.push_back(std::move(file));
  }
}

std::vector<protocol::Message> ProgressChannel::takeCommands() {
  const std::lock_guard lock(state_->commandMutex);
  return std::exchange(state_->commands, {});
}

void ProgressChannel::close() {
  State& state = *state_;
  {
    const std::lock_guard lock(state.publishMutex);
    if (state.closed) return;
    state.closed = true;
  }
  if (state.writer.joinable()) {
    {
      const std::lock_guard lock(state.queueMutex);
      state.closing = true;
      state.closeBy = Clock::now() + state.options.closeDeadline;
      state.wakeWriter();
    }
    state.writer.join();
  }
  state.socket.reset();
  std::string error = state.fileError;
  for (EventsFile& file : state.files) {
    if (::fsync(file.fd.get()) != 0 && error.empty())
      error = "cannot sync events file " + file.path.string() + ": " + reasonOf(errno);
    file.fd.reset();
  }
  state.files.clear();
  if (!error.empty()) throw std::runtime_error(error);
}

std::uint64_t ProgressChannel::droppedEvents() const {
  return state_->dropped.load(std::memory_order_relaxed);
}

std::uint64_t ProgressChannel::connectionLosses() const {
  return state_->losses.load(std::memory_order_relaxed);
}

std::uint64_t ProgressChannel::ignoredLines() const {
  return state_->ignored.load(std::memory_order_relaxed);
}

}  // namespace syncbn::train
