// Whole-file writes that never leave a half-written file behind: the contents go to a temporary
// file beside the target, are flushed to disk, then renamed over the target in one step.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace syncbn {

// Throws std::runtime_error naming the path and the system's reason on failure; the previous
// file, if any, is then left untouched.
void writeFileAtomically(const std::filesystem::path& path, std::string_view contents);
// The same, for contents in pieces written one after the other (a header and a large payload
// without copying them into one buffer).
void writeFileAtomically(const std::filesystem::path& path,
                         std::initializer_list<std::string_view> pieces);

// Removes what an interrupted write left in `dir`: its temporary files, named
// ".TARGET.tmp.XXXXXX". Returns the removed paths. Only for folders no other process writes into
// at that moment (a run's own folders as it starts); a missing folder has none.
std::vector<std::filesystem::path> removeStaleTemporaries(const std::filesystem::path& dir);

}  // namespace syncbn
