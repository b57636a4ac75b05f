# Warnings as errors on Anser's own targets only (never on third-party headers).
function(anser_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-unused-parameter -Werror)
endfunction()
