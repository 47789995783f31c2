# ctest's fuzz fixture: configures and builds tests/fuzz with clang++ into BUILD_DIR and
# writes the seed corpora to BUILD_DIR/seeds.
#   cmake -DSOURCE_DIR=<snn2ann> -DBUILD_DIR=<dir> -DCXX=<clang++> [-DLAUNCHER=ccache] -P smoke.cmake
foreach(v SOURCE_DIR BUILD_DIR CXX)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "smoke.cmake: -D${v}=... is required")
    endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/../run_step.cmake)
set(args -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if(LAUNCHER)
    list(APPEND args -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/fuzz -B ${BUILD_DIR} ${args})
run(${CMAKE_COMMAND} --build ${BUILD_DIR} -j2)
file(REMOVE_RECURSE ${BUILD_DIR}/seeds)
run(${BUILD_DIR}/make_seeds ${BUILD_DIR}/seeds)
message(STATUS "fuzzers built in ${BUILD_DIR}, seeds in ${BUILD_DIR}/seeds")
