# ANSER_FUZZ: the libFuzzer build (preset `fuzz`). Clang only: every object carries the
# fuzzer's coverage instrumentation and ASan + UBSan; the fuzz targets link libFuzzer's main.
if(ANSER_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ANSER_FUZZ needs clang (Debian clang-14 and libclang-rt-14-dev): use the fuzz preset")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
