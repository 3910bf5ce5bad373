// The qualifier of the scalar math shared by the CUDA and OpenCL kernels (activation_math.h,
// loss_math.h, optimizer_math.h, philox.h, dropout_math.h): each function is compiled into both
// languages from one definition; math_u32 and math_u64 are the unsigned integers of both.
// Only functions both languages have for float are used: exp, log, tanh, sqrt, expm1, pow, cos, fabs,
// fmin, fmax, isnan, isinf.
#ifndef BACKPROP4J_MATH_PRELUDE_H
#define BACKPROP4J_MATH_PRELUDE_H

#ifdef __CUDACC__
#define MATH_FN __device__ __forceinline__
#define MATH_NAN __int_as_float(0x7fc00000)
typedef unsigned int math_u32;
typedef unsigned long long math_u64;
#else
#define MATH_FN inline
#define MATH_NAN NAN
typedef uint math_u32;
typedef ulong math_u64;
#endif

#endif
