// A scripted rank for the launcher tests. Usage: launcher_test_worker MODE [ARGS...]
//   env [NAME...]          print RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK,
//                          MASTER_ADDR, MASTER_PORT and the named variables as NAME=value
//   abort-rank K           rank K calls std::abort() after 200 ms; the others sleep 60 s
//   exit-rank K CODE       rank K exits with CODE after 200 ms; the others sleep 60 s
//   ignore-term K          the others ignore SIGTERM, touch $READY_DIR/<rank> and sleep 60 s;
//                          rank K waits for all of them to be ready, then exits with 3
//   chatty                 1000 lines (chattyLine), every 10th on stderr, some written in pieces
//   long-line BYTES        BYTES 'x' on stdout and no newline
//   sleep [SECONDS]        sleep (default 60 s)
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;

int envInt(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::atoi(value) : -1;
}

std::string envText(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "<unset>";
}

// Kept in sync with chattyLine() in test_launcher.cpp; lengths vary from 20 to about 320 bytes.
std::string chattyLine(int rank, int line) {
  return "chatty rank=" + std::to_string(rank) + " line=" + std::to_string(line) + " " +
         std::string(static_cast<std::size_t>(line % 300), static_cast<char>('a' + line % 26));
}

void writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) std::exit(90);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

int printEnvironment(int argc, char** argv) {
  for (const char* name : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK",
                           "MASTER_ADDR", "MASTER_PORT"})
    std::cout << name << '=' << envText(name) << '\n';
  for (int i = 2; i < argc; ++i)
    std::cout << argv[i] << '=' << envText(argv[i]) << '\n';
  return 0;
}

// Every 7th line goes out in three writes with pauses between, so a reader sees partial lines.
int chatty() {
  const int rank = envInt("RANK");
  for (int line = 0; line < 1000; ++line) {
    const int fd = line % 10 == 0 ? 2 : 1;
    const std::string text = chattyLine(rank, line) + "\n";
    if (line % 7 != 0) {
      writeAll(fd, text);
      continue;
    }
    const std::size_t third = text.size() / 3;
    writeAll(fd, text.substr(0, third));
    std::this_thread::sleep_for(100us);
    writeAll(fd, text.substr(third, third));
    std::this_thread::sleep_for(100us);
    writeAll(fd, text.substr(2 * third));
  }
  return 0;
}

void waitForReadyRanks(const std::filesystem::path& directory, int expected) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto entries = std::distance(std::filesystem::directory_iterator(directory),
                                       std::filesystem::directory_iterator());
    if (entries >= expected) return;
    std::this_thread::sleep_for(10ms);
  }
}

int ignoreTerm(int exitingRank) {
  const int rank = envInt("RANK");
  const std::filesystem::path readyDir = envText("READY_DIR");
  if (rank == exitingRank) {
    waitForReadyRanks(readyDir, envInt("WORLD_SIZE") - 1);
    return 3;
  }
  ::signal(SIGTERM, SIG_IGN);
  std::ofstream(readyDir / std::to_string(rank)) << "ready\n";
  std::this_thread::sleep_for(60s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto intArg = [&](int index, int fallback) {
    return argc > index ? std::atoi(argv[index]) : fallback;
  };
  if (mode == "env") return printEnvironment(argc, argv);
  if (mode == "chatty") return chatty();
  if (mode == "ignore-term") return ignoreTerm(intArg(2, 0));
  if (mode == "long-line") {
    writeAll(1, std::string(static_cast<std::size_t>(intArg(2, 0)), 'x'));
    return 0;
  }
  if (mode == "sleep") {
    std::this_thread::sleep_for(std::chrono::seconds(intArg(2, 60)));
    return 0;
  }
  if (mode == "abort-rank" || mode == "exit-rank") {
    if (envInt("RANK") != intArg(2, 0)) {
      std::this_thread::sleep_for(60s);
      return 0;
    }
    std::this_thread::sleep_for(200ms);
    if (mode == "abort-rank") std::abort();
    return intArg(3, 1);
  }
  std::cerr << "launcher_test_worker: unknown mode '" << mode << "'\n";
  return 2;
}
