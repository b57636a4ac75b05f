# Run at every build (cmake -P): writes OUT, a header with the git commit of SOURCE_DIR and
# whether its tree had changes, rewriting it only when that changed (so nothing relinks).
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE status)
if(NOT status EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit "-modified")
  endif()
endif()
file(CONFIGURE OUTPUT "${OUT}" CONTENT "#pragma once\n#define ANSER_GIT_COMMIT \"${commit}\"\n" @ONLY)
