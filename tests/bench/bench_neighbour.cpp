// A neighbour for the CPU-contention benchmark (tests/bench/contention.sh): one thread that
// keeps a core busy until killed.
//   bench_neighbour busy      an arithmetic loop (no memory traffic)
//   bench_neighbour memory    copies 128 MiB back and forth (memory-bound)
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "busy") {
    volatile unsigned long spins = 0;  // volatile: a loop with no effect would be undefined
    for (;;)
      spins = spins + 1;
  }
  if (mode == "memory") {
    constexpr std::size_t kBytes = std::size_t{128} << 20;
    std::vector<char> a(kBytes, 1), b(kBytes, 2);
    for (;;) {
      std::memcpy(b.data(), a.data(), kBytes);
      std::memcpy(a.data(), b.data(), kBytes);
      // Read back, so the copies are not optimised away.
      if (a[kBytes / 2] == 3) std::puts("");
    }
  }
  std::fputs("usage: bench_neighbour busy|memory\n", stderr);
  return 2;
}
