// A test case that cannot run on this machine (no AMX, a data package not installed) says
// so with test::skip: the test program then exits with 77 if nothing failed, which ctest
// reports as skipped, never as passed. Such cases run as ctest tests of their own
// (tests/CMakeLists.txt, needs_test), so that a skip never hides the cases that ran.
#pragma once

#include <doctest/doctest.h>

namespace test {

/// How many test cases of this run skipped themselves.
inline int& skipped_count() {
    static int n = 0;
    return n;
}

}  // namespace test

/// Ends the running test case as skipped, with the reason (a macro only to return from it).
#define TEST_SKIP(reason)                     \
    do {                                      \
        MESSAGE("skipped: " << (reason));     \
        ++test::skipped_count();              \
        return;                               \
    } while (false)
