// Programmer-error checks: always-on ANSER_CHECK, debug-only ANSER_DCHECK. They abort.
#pragma once

#include <cstdio>
#include <cstdlib>

#define ANSER_CHECK(cond, msg)                                                       \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "anser: check failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, msg);                                                      \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#ifdef NDEBUG
#define ANSER_DCHECK(cond, msg) \
  do {                          \
  } while (0)
#else
#define ANSER_DCHECK(cond, msg) ANSER_CHECK(cond, msg)
#endif
