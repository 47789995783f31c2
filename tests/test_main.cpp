// doctest's main for the test programs: 77 (ctest: skipped) where a test case skipped
// itself (skip.hpp) and nothing failed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "skip.hpp"

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    const int failed = context.run();
    if (context.shouldExit() || failed != 0) return failed;
    return test::skipped_count() > 0 ? 77 : 0;
}
