# Runs Doxygen on the public headers and fails with its warnings if there are any.
#   cmake -DDOXYGEN=<doxygen> -DDOXYFILE=<Doxyfile> -DWARNINGS=<its WARN_LOGFILE> -P api_reference.cmake
file(REMOVE ${WARNINGS})
execute_process(COMMAND ${DOXYGEN} ${DOXYFILE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "doxygen failed (${rc}):\n${out}${err}")
endif()
file(READ ${WARNINGS} warnings)
if(NOT warnings STREQUAL "")
    message(FATAL_ERROR "the API reference has warnings:\n${warnings}")
endif()
message(STATUS "the API reference builds without a warning")
