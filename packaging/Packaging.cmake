# CPack .deb: `cmake --build build --target package` (or `cpack --config build/CPackConfig.cmake`).
# Runtime dependencies are computed from the installed binaries by dpkg-shlibdeps.
if(SYNCBN_HAVE_GUI)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/syncbn-studio.desktop
          DESTINATION share/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/syncbn-studio.svg
          DESTINATION share/icons/hicolor/scalable/apps OPTIONAL)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME syncbn-studio)
set(CPACK_PACKAGE_VENDOR "SyncBN Studio")
set(CPACK_PACKAGE_CONTACT "SyncBN Studio developers <dev@syncbn.studio>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
include(CPack)
