// Shared by the CUDA and OpenCL kernels and their math headers (C preprocessor only): activation codes
// are io.github.backprop4j.core.Activation ordinals, loss codes are Loss ordinals, and the constants
// are the ones the Java backend uses. OpenClOpCodesTest checks the codes against the enums.
#ifndef BACKPROP4J_OP_CODES_H
#define BACKPROP4J_OP_CODES_H

#define ACT_IDENTITY   0
#define ACT_RELU       1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID    3
#define ACT_TANH       4
#define ACT_GELU       5
#define ACT_SOFTMAX    6

#define LOSS_MSE 0
#define LOSS_BCE 1
#define LOSS_CCE 2

#define LEAKY_SLOPE 0.01f
#define GELU_C 0.7978845608028654f
#define GELU_K 0.044715f
#define LOG_EPS 1e-7f

#endif
