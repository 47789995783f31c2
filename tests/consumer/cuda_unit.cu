// cuda_unit.cpp compiled by nvcc.
#include "cuda_unit.cpp"
