// The qualifier of the scalar math shared by the CUDA and OpenCL kernels (activation_math.h,
// loss_math.h, optimizer_math.h): each function is compiled into both languages from one definition.
// Only functions both languages have for float are used: exp, log, tanh, sqrt, expm1, fabs, fmin, fmax,
// isnan.
#ifndef BACKPROP4J_MATH_PRELUDE_H
#define BACKPROP4J_MATH_PRELUDE_H

#ifdef __CUDACC__
#define MATH_FN __device__ __forceinline__
#else
#define MATH_FN inline
#endif

#endif
