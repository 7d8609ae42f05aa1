// How the ranks' OpenMP threads wait between parallel regions.
//
// LibTorch's CPU kernels run on libgomp, whose default wait policy spins for a while at every
// barrier before sleeping. Alone on the machine that is fastest; sharing the cores with a
// neighbour (the studio, a data loader, another job) it is far slower: a thread spins on a core
// the neighbour needs while the thread it waits for is not scheduled. On the 2-core machine a
// busy loop on one core made 1 rank x 2 threads 2.85x slower than the default's idle step with
// libgomp's default and 1.76x with passive waiting; idle, passive waiting was 9-16% slower
// (docs/benchmarks.md, "CPU contention"). So the engine waits passively when it shares the cores,
// and keeps the default when it has them to itself.
//
// libgomp reads OMP_WAIT_POLICY once, when it is loaded, before main() runs, and has no call to
// change it later. So the engine chooses by executing itself again with the variable set: the
// same process (pid, arguments, open files), before anything else happened in it. A user's own
// OMP_WAIT_POLICY (ACTIVE or PASSIVE) is respected and never replaced.
#pragma once

namespace syncbn::dist {

inline constexpr char kOpenMpWaitPolicyVariable[] = "OMP_WAIT_POLICY";
// The choice made, for the ranks a launcher starts (they inherit it and do not choose again) and
// for the user to see: "passive" or "default".
inline constexpr char kOpenMpWaitChoiceVariable[] = "SYNCBN_OPENMP_WAIT";
// The cores other programs kept busy when the program started, for the ranks it launches too.
inline constexpr char kOthersBusyVariable[] = "SYNCBN_CPU_OTHERS_BUSY";
// Other programs using at least this many cores, over a short sample at start, share the cores.
inline constexpr double kSharedCpuCores = 0.5;

// Passive waiting when the cores are shared: by the studio that started the engine
// (`withStudio`), or by other programs busy at start (`othersBusyCores` of CPU time per second).
bool shouldWaitPassively(bool withStudio, double othersBusyCores);

// The cores other programs keep busy now: /proc/stat sampled over `sampleMs` while this process
// sleeps. 0 when it cannot be read.
double busyCoresNow(int sampleMs = 100);

// The cores other programs kept busy at start: SYNCBN_CPU_OTHERS_BUSY when it is set (by this
// process before it re-executed itself, or by the launcher of this rank); else a busyCoresNow()
// sample, recorded in that variable so that it is taken once. A rank that torchrun started
// (LOCAL_WORLD_SIZE above 1, nothing recorded) answers 0 without a sample: its sibling ranks,
// starting at the same moment, would count as other programs.
double othersBusyCoresAtStart();

// Unless OMP_WAIT_POLICY or SYNCBN_OPENMP_WAIT is set: chooses (othersBusyCoresAtStart()), records
// the choice in SYNCBN_OPENMP_WAIT and, for passive waiting, sets OMP_WAIT_POLICY=PASSIVE and
// re-executes this program (Linux's /proc/self/exe) with the same argv; does not return then.
// Returns otherwise, or when the exec failed (then it says why on stderr). Call it first thing in
// main(), before any thread of the program's own exists.
void chooseOpenMpWaiting(char** argv, bool withStudio);

}  // namespace syncbn::dist
