# anser_add_test(NAME SOURCES... [LABELS l1 l2]) — one GoogleTest binary, registered with CTest.
# Tests read the fixtures in place through ANSER_SHARED_DIR (../shared beside the checkout).
set(ANSER_SHARED_DIR "${PROJECT_SOURCE_DIR}/../shared" CACHE PATH "Folder holding fixtures/, vocab/ and data/")
function(anser_add_test name)
  cmake_parse_arguments(ARG "" "" "LABELS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE anser GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE ANSER_SHARED_DIR="${ANSER_SHARED_DIR}"
                                             ANSER_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             ANSER_BINARY="$<TARGET_FILE:anser_cli>")
  anser_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_LIST ${name}_TESTS)
  # Labels are set by a script of our own that CTest runs after the discovered tests are defined:
  # gtest_discover_tests' PROPERTIES writes a list unquoted, so a test would keep only its first
  # label (and `ctest -L`/`-LE` would miss the others).
  if(ARG_LABELS)
    set(script "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
    file(WRITE "${script}" "foreach(test IN LISTS ${name}_TESTS)\n"
                           "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${ARG_LABELS}\")\n"
                           "endforeach()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
  endif()
endfunction()
# anser_add_test_objects(NAME SOURCES...) — test helpers that several test binaries share, compiled
# once: a test lists $<TARGET_OBJECTS:NAME> among its sources. They see the public and internal
# headers but link nothing themselves, so the C API's tests (linked with libanser.so alone) can
# use them too.
function(anser_add_test_objects name)
  add_library(${name} OBJECT ${ARGN})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/include
                                             ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE nlohmann_json::nlohmann_json GTest::gtest)
  target_compile_definitions(${name} PRIVATE ANSER_SHARED_DIR="${ANSER_SHARED_DIR}"
                                             ANSER_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             ANSER_BINARY="$<TARGET_FILE:anser_cli>")
  anser_warnings(${name})
endfunction()
include(GoogleTest)
