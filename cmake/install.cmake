# `cmake --install` puts the library, its headers, wasmtime's C API and an
# exported package config under the prefix; find_package(strata) then gives
# strata::strata.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS strata strata_cli EXPORT strataTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/strata DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES "${WASMTIME_LIBRARY}" DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY "${WASMTIME_INCLUDE_DIR}/"
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT strataTargets NAMESPACE strata::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
configure_package_config_file(cmake/strataConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
write_basic_package_version_file(
  "${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
