// Reading a file the user named, safely: a FIFO, a device, a socket or a folder where a regular
// file is expected is refused at once (opening a FIFO for reading blocks until a writer comes, and
// /dev/zero never ends), and a file larger than the caller's bound is refused before it is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace syncbn {

// What a path is when it is not a regular file: "a folder", "a FIFO (named pipe)", "a character
// device", "a block device", "a socket"; nullopt for a regular file, or a path that does not
// exist (the caller's open then reports that). Follows symbolic links.
std::optional<std::string> nonRegularKind(const std::filesystem::path& path);

// Why a file could not be read, without the path (the caller names the file in its own words).
class FileReadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The whole contents of a regular file of at most `maxBytes` bytes. The file is opened without
// blocking and checked through the opened descriptor, so nothing can swap a FIFO in between.
// Throws FileReadError: "does not exist", "is a FIFO (named pipe), not a regular file",
// "is 3.1 GiB, more than the 64 MiB allowed", or the system's reason.
std::string readRegularFile(const std::filesystem::path& path, std::uint64_t maxBytes);

// The same, reporting the reason in `error` instead of throwing.
std::optional<std::string> tryReadRegularFile(const std::filesystem::path& path,
                                              std::uint64_t maxBytes, std::string& error);

// Bounds for the files the engine and the studio read whole.
inline constexpr std::uint64_t kMaxTextFileBytes = 64ull << 20;  // YAML, label files
inline constexpr std::uint64_t kMaxImageListBytes = 1ull << 30;  // .txt image lists
inline constexpr std::uint64_t kMaxImageFileBytes = 2ull << 30;  // one encoded image

}  // namespace syncbn
