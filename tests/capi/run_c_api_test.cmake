# cmake -DPROGRAM=… -DSHARED_DIR=… -P run_c_api_test.cmake: the C test program in the build tree.
include(${CMAKE_CURRENT_LIST_DIR}/fixture_case.cmake)
anser_run_c_api_test(${PROGRAM} ${SHARED_DIR})
