# LibTorch targets share one precompiled header: torch/torch.h costs ~40 s per translation
# unit on the 2-core CI machine, so it is compiled once (in syncbn_torch_pch) and reused.
# Works with Debian's LibTorch 1.13 (CPU) and a CUDA LibTorch 2.x given by CMAKE_PREFIX_PATH.
add_library(syncbn_torch_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
target_link_libraries(syncbn_torch_pch PUBLIC torch)
target_compile_options(syncbn_torch_pch PUBLIC ${TORCH_CXX_FLAGS})
target_precompile_headers(syncbn_torch_pch PRIVATE <torch/torch.h>)
# Users must compile with the same flags as the PCH (GCC rejects it otherwise), warnings included.
syncbn_set_warnings(syncbn_torch_pch)

# syncbn_torch_target(target): link LibTorch and reuse the shared precompiled header.
function(syncbn_torch_target target)
  target_link_libraries(${target} PUBLIC syncbn_torch_pch)
  target_precompile_headers(${target} REUSE_FROM syncbn_torch_pch)
endfunction()

message(STATUS "LibTorch ${Torch_VERSION}: ${TORCH_LIBRARIES}")
