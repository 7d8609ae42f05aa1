# The Debian package: `cmake --build build --target package` writes
# build/syncbn-studio_<version>_<arch>.deb (packaging/test-package.sh builds, validates, unpacks
# and runs it; ctest runs that as `package.deb`).
#   /usr/bin/syncbn-studio, /usr/bin/syncbn-engine   (the model YAML and translations compiled in)
#   desktop entry, hicolor icons (32, 64, 256 px, scalable), AppStream metainfo
#   man pages generated from --help (help2man), bash completion for syncbn-engine
# Runtime dependencies are computed from the installed binaries by dpkg-shlibdeps, so none of the
# -dev packages the build needs is among them.
set(SYNCBN_APP_ID io.github.syncbn_studio)
if(SYNCBN_HAVE_GUI)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/syncbn-studio.desktop
          DESTINATION share/applications)
  foreach(size 32 64 256)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/syncbn-studio-${size}.png
            DESTINATION share/icons/hicolor/${size}x${size}/apps RENAME syncbn-studio.png)
  endforeach()
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/syncbn-studio.svg
          DESTINATION share/icons/hicolor/scalable/apps)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/${SYNCBN_APP_ID}.metainfo.xml
                 ${CMAKE_CURRENT_BINARY_DIR}/packaging/${SYNCBN_APP_ID}.metainfo.xml @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/${SYNCBN_APP_ID}.metainfo.xml
          DESTINATION share/metainfo)
endif()
# Help > Documentation opens share/doc/syncbn-studio/README.md (app/support_info.cpp).
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/syncbn-studio)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION share/doc/syncbn-studio/docs)
if(TARGET syncbn-engine)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/syncbn-engine.bash-completion
          DESTINATION share/bash-completion/completions RENAME syncbn-engine)
endif()

# Man pages from each program's --help and --version, so they cannot disagree with them.
find_program(HELP2MAN help2man)
find_program(GZIP gzip)
if(HELP2MAN AND GZIP)
  set(man_pages)
  foreach(program syncbn-studio syncbn-engine)
    if(NOT TARGET ${program})
      continue()
    endif()
    if(program STREQUAL "syncbn-studio")
      set(summary "configure and monitor multi-GPU YOLO training with synchronized BatchNorm")
    else()
      set(summary "train YOLOv8 on one or many ranks with synchronized BatchNorm")
    endif()
    set(page ${CMAKE_CURRENT_BINARY_DIR}/packaging/${program}.1.gz)
    add_custom_command(
      OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
              ${HELP2MAN} --no-info --section=1 --name=${summary}
              --output=${CMAKE_CURRENT_BINARY_DIR}/packaging/${program}.1 $<TARGET_FILE:${program}>
      COMMAND ${GZIP} -9nf ${CMAKE_CURRENT_BINARY_DIR}/packaging/${program}.1
      DEPENDS ${program}
      COMMENT "Generating the ${program}(1) man page from --help"
      VERBATIM)
    list(APPEND man_pages ${page})
    install(FILES ${page} DESTINATION share/man/man1)
  endforeach()
  add_custom_target(syncbn_man_pages ALL DEPENDS ${man_pages})
else()
  message(STATUS "help2man or gzip not found: no man pages (scripts/install-deps.sh installs them)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME syncbn-studio)
set(CPACK_PACKAGE_VENDOR "SyncBN Studio")
set(CPACK_PACKAGE_CONTACT "SyncBN Studio developers <dev@syncbn.studio>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Configure and monitor multi-GPU YOLO training with synchronized BatchNorm")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "syncbn-studio (Qt) sets up, starts and watches YOLOv8 training; syncbn-engine (LibTorch)\n\
 trains it on one rank per GPU (NCCL) or CPU ranks (Gloo), with BatchNorm synchronized across\n\
 the ranks on request, and runs headless, under torchrun or Slurm. Also: dataset\n\
 verification, BatchNorm diagnosis with one-click fixes, ONNX and TorchScript export.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Loaded at run time, so no shared-library scan finds them: Qt's platform plugins (xcb, wayland;
# only recommended by libqt6gui6), without which the window cannot open.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
# The package's files are its own; the shlibdeps search must not look for our static libraries.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_STRIP_FILES ON)
include(CPack)

if(SYNCBN_BUILD_TESTS AND SYNCBN_HAVE_GUI AND TARGET syncbn-engine)
  add_test(NAME package.deb
           COMMAND bash ${PROJECT_SOURCE_DIR}/packaging/test-package.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(package.deb PROPERTIES TIMEOUT 900 PASS_REGULAR_EXPRESSION "test-package: ok")
endif()
