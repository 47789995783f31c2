# The repository cites only what it contains: no file refers to documents outside it
# (../shared/, METHOD.md, DESIGN.md: the project's own are docs/method.md and
# docs/design.md) or to the issues and sessions of its development.
#   cmake -DSOURCE_DIR=<snn2ann> -P speaks_of_itself.cmake
file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR}
     ${SOURCE_DIR}/include/* ${SOURCE_DIR}/examples/* ${SOURCE_DIR}/benchmarks/* ${SOURCE_DIR}/scripts/*
     ${SOURCE_DIR}/tests/*.cpp ${SOURCE_DIR}/tests/*.hpp ${SOURCE_DIR}/tests/*.cu ${SOURCE_DIR}/tests/*.txt
     ${SOURCE_DIR}/tests/fuzz/*.cpp ${SOURCE_DIR}/tests/fuzz/*.hpp ${SOURCE_DIR}/docs/*.md
     ${SOURCE_DIR}/README.md ${SOURCE_DIR}/CHANGELOG.md ${SOURCE_DIR}/CMakeLists.txt ${SOURCE_DIR}/cmake/*)
set(found "")
foreach(f ${files})
    if(f MATCHES "\\.(svg|png|npz|jpg)$")
        continue()
    endif()
    file(STRINGS ${SOURCE_DIR}/${f} lines REGEX "\\.\\./shared/|[^/]METHOD\\.md|[^/]DESIGN\\.md|^METHOD\\.md|^DESIGN\\.md|[Ii]ssues? [0-9]|[Ss]ession")
    foreach(line ${lines})
        string(APPEND found "${f}: ${line}\n")
    endforeach()
endforeach()
if(found)
    message(FATAL_ERROR "these lines cite what the repository does not contain:\n${found}")
endif()
list(LENGTH files n)
message(STATUS "${n} files cite only the repository")
