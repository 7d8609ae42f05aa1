// Which of LibTorch's builds of its own CPU kernels the engine runs.
//
// ATen compiles its element-wise and reduction kernels (BatchNorm, SiLU, additions, copies,
// concatenation, the optimizer's arithmetic) once per instruction set and picks one build at the
// first kernel call, from the ATEN_CPU_CAPABILITY variable or, without it, from the CPU. Debian's
// LibTorch 1.13 has both builds but, on this project's 2-core AVX-512 machine, picks AVX2 unless
// the variable says otherwise (torch.__config__.show(): "CPU capability usage: AVX2"). There the
// AVX-512 build made yolov8n's training step 2-5% faster (docs/benchmarks.md, "Channels-last and
// ATen's AVX-512 kernels"), so the engine opts in where the CPU has what that build needs. oneDNN's
// convolutions and OpenBLAS's products choose their instruction set themselves and are not
// affected.
//
// A user's own ATEN_CPU_CAPABILITY (default, avx2, avx512) is respected and never replaced.
#pragma once

#include <string>

namespace syncbn::dist {

inline constexpr char kAtenCpuCapabilityVariable[] = "ATEN_CPU_CAPABILITY";

// Whether this CPU and its operating system run ATen's AVX-512 kernels: AVX-512 F, VL, BW and DQ,
// and FMA, the features ATen itself checks before it runs them.
bool cpuRunsAtenAvx512();

// Unless ATEN_CPU_CAPABILITY is set, sets it to "avx512" where cpuRunsAtenAvx512(). Returns the
// value in effect afterwards, "" when it stays unset (ATen's own choice). Call it first thing in
// main(), before the first LibTorch kernel runs: ATen reads the variable once.
std::string chooseAtenCpuCapability();

}  // namespace syncbn::dist
