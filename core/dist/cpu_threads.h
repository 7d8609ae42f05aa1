// How many threads one rank's CPU kernels use, in both of LibTorch's thread pools.
//
// LibTorch runs its own kernels on OpenMP (at::set_num_threads), but its matrix products go to
// the BLAS it was built with: OpenBLAS in Debian's LibTorch, whose pthread build keeps a pool of
// its own, one thread per core, that at::set_num_threads does not touch. The 1x1 convolutions of
// a rank with one intra-op thread and fewer than 16 images take LibTorch's im2col path, a BLAS
// matrix product, so with 2 ranks on 2 cores each rank's OpenBLAS ran 2 threads: 4 threads on 2
// cores, each waiting (sched_yield in a loop) for a partner that was not scheduled. With both
// cores of the 2-core machine busy, a 4-image 128-channel 1x1 convolution at one intra-op thread
// ran 5x faster with OpenBLAS limited to one thread, and 2-rank steps up to 1.5x faster
// (docs/benchmarks.md, "SyncBN's cost in the step").
#pragma once

namespace syncbn::dist {

// A core other programs keep at least this busy is theirs: a thread of ours that shared it would
// run at half speed, and every parallel region waits for its slowest thread. On the 2-core
// machine, with a busy loop or a memory-bound process on one core, one thread took 1173-1243 ms
// per step and two threads 1324-1339 ms (waiting passively; docs/benchmarks.md, "CPU
// contention"). A neighbour using less than this leaves enough of its core to a second thread.
inline constexpr double kTakenCoreShare = 0.75;

// The intra-op threads each of `ranksPerNode` ranks gets on this node's cores: an equal share of
// those that other programs do not take (`othersBusyCores`, see kTakenCoreShare), at least 1, so
// that the ranks together do not oversubscribe the cores.
int cpuThreadsPerRank(int ranksPerNode, double othersBusyCores = 0);

// Sets LibTorch's intra-op threads and, when the BLAS in this process is OpenBLAS, OpenBLAS's
// threads to `threads` (at least 1). Call it before the first kernel runs.
void useCpuThreads(int threads);

// OpenBLAS's thread count in this process, or 0 when this process has no OpenBLAS (MKL, or a
// BLAS without that call).
int openBlasThreads();

}  // namespace syncbn::dist
