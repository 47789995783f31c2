// cuda/second_unit.cpp compiled by nvcc (the GPU test program's second translation unit).
#include "second_unit.cpp"
