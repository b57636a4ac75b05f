# `cmake --install`: the libraries, the public headers, the CMake package (find_package(anser):
# anser::anser = libanser.so with the C API, anser::anser_static = libanser.a with the C++ and C
# APIs) and anser.pc for pkg-config. The binary and the data files install from their folders.
include(CMakePackageConfigHelpers)
set(ANSER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/anser)
set_target_properties(anser_shared PROPERTIES EXPORT_NAME anser)
set_target_properties(anser PROPERTIES EXPORT_NAME anser_static)
install(TARGETS anser anser_shared EXPORT anserTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/anser DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT anserTargets NAMESPACE anser:: DESTINATION ${ANSER_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/anserConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/anserConfig.cmake
                              INSTALL_DESTINATION ${ANSER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/anserConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/anserConfig.cmake ${PROJECT_BINARY_DIR}/anserConfigVersion.cmake
        DESTINATION ${ANSER_CMAKE_DIR})
# anser.pc finds its prefix from its own folder, so an installed tree may be moved.
file(RELATIVE_PATH ANSER_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(${CMAKE_CURRENT_LIST_DIR}/anser.pc.in ${PROJECT_BINARY_DIR}/anser.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/anser.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
