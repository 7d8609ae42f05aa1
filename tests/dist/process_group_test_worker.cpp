// Rank 1 of 2 for test_process_group: joins the Gloo group at 127.0.0.1:<port>, takes part in
// one small sum (adding 2 to every value) and exits, so that rank 0 sees a rank whose process
// ended between two of its collectives. Exit code 0 when the sum went through shared memory and
// came out right.
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>

#include "dist/process_group.h"

int main(int argc, char** argv) {
  using namespace syncbn::dist;
  if (argc != 2) {
    std::cerr << "usage: process_group_test_worker <port>\n";
    return 2;
  }
  try {
    Rendezvous r;
    r.rank = 1;
    r.worldSize = 2;
    r.masterPort = std::atoi(argv[1]);
    r.timeout = std::chrono::seconds(60);
    const auto group =
        ProcessGroup::create(Store::tcp(r), 1, 2, syncbn::Backend::Gloo, false, r.timeout);
    torch::Tensor t = torch::full({3}, 2.0, torch::kDouble);
    group->allReduceSumSmall(t);
    return group->smallSumsShareMemory() && t[0].item<double>() == 3.0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "process_group_test_worker: " << e.what() << "\n";
    return 3;
  }
}
