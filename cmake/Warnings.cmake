# syncbn_set_warnings(target): the project's warning level for code we own.
function(syncbn_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  endif()
  # GCC 12 at -O3 warns -Wrestrict inside libstdc++ for `"text" + std::string` (GCC bug 105329),
  # a false positive; it would bury real warnings in every Release build.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()
