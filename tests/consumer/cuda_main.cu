// cuda_main.cpp compiled by nvcc.
#include "cuda_main.cpp"
