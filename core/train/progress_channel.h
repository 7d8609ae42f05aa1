// The engine's progress events, fanned out to JSON-lines files (the run's events.jsonl, and
// --events FILE) and to the GUI's local socket (--progress-socket PATH), and the GUI's commands
// read back from that socket.
// docs/protocol.md ("Transport") describes the wire side. POSIX only; no Qt, no LibTorch.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "train/event_sink.h"

namespace syncbn::train {

// The environment variable through which the GUI hands the engine its session token. Not a
// command-line option, because other users of the machine can read a process's arguments.
inline constexpr const char* kSessionTokenVariable = "SYNCBN_SESSION_TOKEN";

// The value of SYNCBN_SESSION_TOKEN, or "" when it is not set.
std::string sessionTokenFromEnvironment();

struct ProgressChannelOptions {
  // Each gets every line, appended. A file named twice (by any path: the inode decides) is
  // written once. Empty: no file.
  std::vector<std::filesystem::path> eventsFiles;
  // Written only from commit() on, with every line published before it: until then the lines
  // are held in memory, and a channel closed without commit() never creates or touches the
  // file. A resumed run's events.jsonl is held until its checkpoint was accepted, so that a
  // refused resume leaves the run directory as it was. Empty: none.
  std::filesystem::path heldEventsFile;
  std::filesystem::path progressSocket;  // empty: no GUI
  // When the socket cannot be reached: false, the channel goes on with the files (the reason is
  // logged to them and in connectionWarning()); true, the constructor writes the reason and a
  // failed `finished` to the files and throws.
  bool requireSocket = false;
  std::string sessionToken;  // sent in `hello`
  // Events waiting for the GUI, beyond the one being written; more are dropped and counted.
  std::size_t maxQueuedEvents = 1024;
  std::size_t maxQueuedBytes = std::size_t{16} << 20;
  // How long close() keeps writing to a GUI that reads slowly before it gives up on the rest.
  std::chrono::milliseconds closeDeadline{2000};
  // Commands waiting for takeCommands(); a GUI sending more is ignored (and logged).
  std::size_t maxQueuedCommands = 256;
};

// Every event goes to every file, appended and written through line by line, never dropped; a
// failure to write one throws from publish(), since the files are the run's complete record. The
// GUI gets `hello` (protocol version, engine version, session token) and then the same lines,
// through a bounded queue that a writer thread drains with non-blocking writes: a GUI that
// reads slowly, stops reading or goes away never stalls the caller. Events that do not fit the
// queue are dropped and counted. A lost connection is logged once to the files, and the channel
// goes on file-only. `hello` is not written to the files: it carries the session secret.
//
// publish() and takeCommands() may be called from any thread.
class ProgressChannel final : public EventSink {
 public:
  // Throws std::runtime_error naming the path when an events file cannot be opened or the
  // socket cannot be connected to.
  explicit ProgressChannel(ProgressChannelOptions options);

  // Why the GUI's socket was not reached, when it was optional and not reached; else empty.
  const std::string& connectionWarning() const;

  // Opens heldEventsFile and writes it every line published so far; later lines go to it as to
  // the others. Idempotent. Throws std::runtime_error naming the file that cannot be opened.
  void commit();
  // Calls close() and swallows its error: call close() to learn of a failed final sync.
  ~ProgressChannel() override;
  ProgressChannel(const ProgressChannel&) = delete;
  ProgressChannel& operator=(const ProgressChannel&) = delete;

  // Writes the line to the files, then queues it for the GUI. Throws std::runtime_error naming
  // the file that cannot be written, std::logic_error after close().
  void publish(const protocol::Message& message) override;

  // The `stop` and `checkpoint_now` commands the GUI sent since the last call, in arrival order.
  // Never blocks; the trainer polls it once per iteration. Commands are read only once `hello`
  // has been written in full.
  std::vector<protocol::Message> takeCommands();

  // Writes what the GUI still accepts within closeDeadline, stops the writer thread, syncs and
  // closes the files. Idempotent. Throws std::runtime_error naming the (first) file whose write
  // or sync failed.
  void close();

  // Events the GUI did not get: dropped for a full queue, or still queued when the connection
  // broke or close()'s deadline passed. Events published after a connection broke, when there is
  // no GUI any more, are not counted.
  std::uint64_t droppedEvents() const;
  // 1 once the connection to the GUI broke (it is not reopened), else 0.
  std::uint64_t connectionLosses() const;
  // Lines from the GUI that were not a valid command (malformed, oversized, another type).
  std::uint64_t ignoredLines() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace syncbn::train
