# One smoke run of a harness: a fresh corpus folder, the seeds and kept regression inputs
# replayed, then SECONDS of fuzzing. Fails when the fuzzer reports a finding.
#   cmake -DFUZZER=<binary> -DCORPUS=<dir> -DINPUTS="<dir>;<dir>" -DSECONDS=20 -P run.cmake
file(REMOVE_RECURSE ${CORPUS})
file(MAKE_DIRECTORY ${CORPUS})
set(existing)
foreach(d ${INPUTS})
    if(IS_DIRECTORY ${d})
        list(APPEND existing ${d})
    endif()
endforeach()
execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
                        ${CORPUS} ${existing}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
message(STATUS "${FUZZER}: ${runs}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER} found a failing input (exit ${rc}):\n${err}")
endif()
