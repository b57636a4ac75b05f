# Installs the build tree into WORK_DIR/prefix and builds and runs programs against it:
# tests/capi/c_api_test.c with find_package(anser) (libanser.so and libanser.a) and with
# pkg-config, and consumer/cpp_consumer.cc with the C++ API of libanser.a.
include(${SOURCE_DIR}/tests/capi/fixture_case.cmake)
set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE failed OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(failed)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "${command}\nfailed (${failed}):\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(file bin/anser ${LIBDIR}/libanser.so.0 ${LIBDIR}/libanser.a include/anser/anser.h include/anser/model.h
             ${LIBDIR}/cmake/anser/anserConfig.cmake ${LIBDIR}/pkgconfig/anser.pc share/anser/default.pth
             share/anser/rwkv_vocab_v20230424.txt share/anser/rwkv_vocab_v20230424.LICENSE)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "cmake --install did not install ${file}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/cmake-build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DANSER_C_TEST=${SOURCE_DIR}/tests/capi/c_api_test.c)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)

# pkg-config, as a Makefile would use it (the prefix is found from anser.pc's own folder).
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs anser OUTPUT_VARIABLE flags RESULT_VARIABLE failed
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(failed)
  message(FATAL_ERROR "pkg-config --cflags --libs anser failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${C_COMPILER} -std=c99 -Wall -Wextra -Wpedantic -Werror ${SOURCE_DIR}/tests/capi/c_api_test.c ${flags}
    -lm -Wl,-rpath,${prefix}/${LIBDIR} -o ${WORK_DIR}/c_api_test_pkg_config)

anser_fixture_case(${SHARED_DIR} tiny-rwkv7-834K quote_in tokens logits)
set(model ${SHARED_DIR}/fixtures/tiny-rwkv7-834K/model.fp32.pth)
foreach(program cmake-build/c_api_test_shared cmake-build/c_api_test_static c_api_test_pkg_config
                cmake-build/cpp_consumer)
  run(${WORK_DIR}/${program} ${model} ${logits} ${tokens})
endforeach()
# The installed binary runs its default model, and finds the World vocabulary in share/anser for
# a 65536-token model that has none beside it.
run(${prefix}/bin/anser generate -p "ROMEO:" -n 8 --seed 1)
set(ENV{ANSER_VOCAB} "")
run(${prefix}/bin/anser generate -m ${SHARED_DIR}/fixtures/rand-rwkv7-L3-D128-world/model.bf16.pth -p "Hello"
    -n 4 --seed 1)
message(STATUS "installed package: CMake, pkg-config and the C++ API all built and ran")
