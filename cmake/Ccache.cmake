# ccache as compiler launcher. The sloppiness settings let ccache cache translation units
# built with precompiled headers (otherwise every PCH user is a cache miss).
if(SYNCBN_USE_CCACHE)
  find_program(SYNCBN_CCACHE ccache)
  if(SYNCBN_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
        ${SYNCBN_CCACHE})
    message(STATUS "ccache: ${SYNCBN_CCACHE}")
  endif()
endif()
