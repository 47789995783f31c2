# The suite's size: the tests registered in BUILD_DIR, less those that exist only where
# nvcc is installed (label nvcc), must not fall below the count in EXPECTED. A missing
# package or a lost add_test would otherwise leave a smaller suite that passes. Raise the
# count in EXPECTED when tests are added.
foreach(v CTEST BUILD_DIR EXPECTED)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "count_tests.cmake: -D${v}=... is required")
    endif()
endforeach()
execute_process(COMMAND ${CTEST} -N -LE nvcc WORKING_DIRECTORY ${BUILD_DIR} OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT listing MATCHES "Total Tests: ([0-9]+)")
    message(FATAL_ERROR "count_tests.cmake: ctest -N failed in ${BUILD_DIR}:\n${listing}")
endif()
set(registered ${CMAKE_MATCH_1})
file(STRINGS ${EXPECTED} expected LIMIT_COUNT 1 REGEX "^[0-9]+$")
if(registered LESS expected)
    message(FATAL_ERROR "the suite has ${registered} tests (without nvcc's), fewer than the ${expected} it had "
                        "(${EXPECTED}): a package is missing or a test was dropped")
endif()
message(STATUS "${registered} tests registered (without nvcc's), at least ${expected} expected")
