// Shared by the CUDA and OpenCL kernels and their math headers (C preprocessor only): activation codes
// are io.github.backprop4j.core.Activation ordinals, loss codes are Loss ordinals, schedule codes are
// LearningRateSchedule.Kind ordinals, and the constants are the ones the Java backend uses.
// OpenClOpCodesTest checks the codes against the enums.
#ifndef BACKPROP4J_OP_CODES_H
#define BACKPROP4J_OP_CODES_H

#define ACT_IDENTITY   0
#define ACT_RELU       1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID    3
#define ACT_TANH       4
#define ACT_GELU       5
#define ACT_GELU_TANH  6
#define ACT_SOFTMAX    7

#define LOSS_MSE 0
#define LOSS_BCE 1
#define LOSS_CCE 2

#define SCHEDULE_CONSTANT 0
#define SCHEDULE_STEP     1
#define SCHEDULE_COSINE   2

#define LEAKY_SLOPE 0.01f
#define GELU_C 0.7978845608028654f
#define GELU_K 0.044715f
#define SQRT_HALF 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f
#define LOG_EPS 1e-7f
#define SCHEDULE_PI 3.14159265358979f

// activation_erfc's t = 1/(1 + ERFC_T_SCALE·|x|) and its polynomial's coefficients, constant term first
// (core's spi.Erfc holds the same numbers; OpenClOpCodesTest compares them).
#define ERFC_T_SCALE 0.4f
#define ERFC_C0 -1.4886546f
#define ERFC_C1 0.9998037f
#define ERFC_C2 0.42419726f
#define ERFC_C3 0.13263585f
#define ERFC_C4 0.25327438f
#define ERFC_C5 -0.85601956f
#define ERFC_C6 1.7532777f
#define ERFC_C7 -2.7654479f
#define ERFC_C8 2.433112f
#define ERFC_C9 -1.0772042f
#define ERFC_C10 0.19102551f

#endif
