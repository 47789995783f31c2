// snn2ann/core: SNN2ANN_HOST_DEVICE, the one macro of the library: the qualifiers of a
// function that both a CPU and a CUDA kernel run (the CUDA backend's kernel bodies, the
// neuron and surrogate formulas they share with the CPU path). Under nvcc it is
// `__host__ __device__`; under any other compiler, which knows neither keyword, nothing.
// It is a project macro on purpose (like Eigen's EIGEN_DEVICE_FUNC): the qualifiers must
// be spelled at each definition, and only the preprocessor can spell them away.
#pragma once

#if defined(__CUDACC__)
#define SNN2ANN_HOST_DEVICE __host__ __device__
#else
#define SNN2ANN_HOST_DEVICE
#endif
