# ccache as compiler launcher. The sloppiness settings let ccache cache translation units
# built with precompiled headers (otherwise every PCH user is a cache miss); the base directory
# makes paths relative to the checkout, so a fresh clone elsewhere (as CI makes) still hits.
if(SYNCBN_USE_CCACHE)
  find_program(SYNCBN_CCACHE ccache)
  if(SYNCBN_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
        CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
        ${SYNCBN_CCACHE})
    message(STATUS "ccache: ${SYNCBN_CCACHE}")
  endif()
endif()
