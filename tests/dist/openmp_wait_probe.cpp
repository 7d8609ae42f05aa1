// Prints its pid, OMP_WAIT_POLICY and arguments, then calls chooseOpenMpWaiting (with the studio
// when the first argument is "studio") and prints them again: the test reads whether and how the
// program was executed anew.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "dist/openmp_wait.h"

namespace {

void say(const char* when, int argc, char** argv) {
  const char* policy = std::getenv(syncbn::dist::kOpenMpWaitPolicyVariable);
  const char* choice = std::getenv(syncbn::dist::kOpenMpWaitChoiceVariable);
  std::printf("%s pid=%d policy=%s choice=%s args=", when, static_cast<int>(::getpid()),
              policy ? policy : "unset", choice ? choice : "unset");
  for (int i = 1; i < argc; ++i)
    std::printf("%s%s", argv[i], i + 1 < argc ? "," : "");
  std::printf("\n");
  std::fflush(stdout);  // before the exec replaces the buffers
}

}  // namespace

int main(int argc, char** argv) {
  say("start", argc, argv);
  syncbn::dist::chooseOpenMpWaiting(argv, argc > 1 && std::string_view(argv[1]) == "studio");
  say("running", argc, argv);
  return 0;
}
