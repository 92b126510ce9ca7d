# What `cmake --install` puts under the prefix: the C API header and the
# shared library (with its CMake package and pkg-config file), the migstore
# command and its man page. The C++ headers are not installed: the C++ API
# is linked statically inside this tree only (docs/embedding.md says why).
include(CMakePackageConfigHelpers)

install(TARGETS migstore_shared EXPORT migstoreTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/migstore)
install(TARGETS migstore RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES docs/migstore.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(migstore_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/migstore)
install(EXPORT migstoreTargets NAMESPACE migstore::
        DESTINATION ${migstore_cmake_dir})
configure_package_config_file(cmake/migstoreConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/migstoreConfig.cmake
  INSTALL_DESTINATION ${migstore_cmake_dir})
# 0.x: a minor version may break the C++ side, never the C ABI, which only
# grows; the library's SONAME carries the major version.
write_basic_package_version_file(
  ${CMAKE_CURRENT_BINARY_DIR}/migstoreConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/migstoreConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/migstoreConfigVersion.cmake
        DESTINATION ${migstore_cmake_dir})

# pkg-config: relocatable (paths relative to the .pc file), so a package
# installed with `cmake --install --prefix DIR` works wherever DIR is.
file(RELATIVE_PATH migstore_pc_prefix
     ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" migstore_pc_prefix "${migstore_pc_prefix}")
configure_file(cmake/migstore.pc.in ${CMAKE_CURRENT_BINARY_DIR}/migstore.pc
               @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/migstore.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
