// Device.optimizerUpdate: one grid-stride kernel per rule, with the element updates of optimizer_math.h
// (shared with optimizer.cl). The step count t is an int in the step buffer: the update uses t + 1, and
// optimizer_update_step, launched after it on the same stream, stores t + 1 (no thread can advance it
// inside the update without racing the other blocks' reads). Every thread computes the update's learning
// rate from t + 1 and the schedule's constants (scheduled_learning_rate), and clipping's factor from the
// 1x1 sum of squares the trainer reduced on the device (null: no clipping). Nothing happens on the host, so
// a captured CUDA graph replays with the right rate, bias correction and clipping.
#include "common.cuh"
#include "optimizer_math.h"

__device__ __forceinline__ float clip_factor(const float* sum_of_squares, float max_norm) {
    return sum_of_squares != nullptr ? gradient_clip_scale(sum_of_squares[0], max_norm) : 1.0f;
}

extern "C" __global__ void optimizer_update_sgd(float* w, const float* g, long long n, float base_lr, float l2,
                                                const int* step, const float* sum_of_squares, float max_norm,
                                                int schedule, int warmup, int period, float gamma, int total,
                                                float min_lr) {
    const float lr = scheduled_learning_rate(base_lr, step[0] + 1, schedule, warmup, period, gamma, total, min_lr);
    const float clip = clip_factor(sum_of_squares, max_norm);
    FOR_EACH_INDEX(i, n) w[i] = sgd_weight(w[i], optimizer_gradient(g[i], clip, w[i], l2), lr);
}

extern "C" __global__ void optimizer_update_momentum(float* w, const float* g, float* v, long long n, float base_lr,
                                                     float mu, float l2, int nesterov, const int* step,
                                                     const float* sum_of_squares, float max_norm, int schedule,
                                                     int warmup, int period, float gamma, int total, float min_lr) {
    const float lr = scheduled_learning_rate(base_lr, step[0] + 1, schedule, warmup, period, gamma, total, min_lr);
    const float clip = clip_factor(sum_of_squares, max_norm);
    FOR_EACH_INDEX(i, n) {
        const float gi = optimizer_gradient(g[i], clip, w[i], l2);
        const float vi = momentum_velocity(v[i], gi, mu);
        v[i] = vi;
        w[i] = momentum_weight(w[i], gi, vi, lr, mu, nesterov);
    }
}

extern "C" __global__ void optimizer_update_adam(float* w, const float* g, float* m, float* v, long long n,
                                                 float base_lr, float beta1, float beta2, float eps, float l2,
                                                 float weight_decay, const int* step, const float* sum_of_squares,
                                                 float max_norm, int schedule, int warmup, int period, float gamma,
                                                 int total, float min_lr) {
    const int t = step[0] + 1;
    const float lr = scheduled_learning_rate(base_lr, t, schedule, warmup, period, gamma, total, min_lr);
    const float decay = decoupled_decay(lr, weight_decay);
    const float c1 = adam_bias_correction(beta1, t);
    const float c2 = adam_bias_correction(beta2, t);
    const float clip = clip_factor(sum_of_squares, max_norm);
    FOR_EACH_INDEX(i, n) {
        const float gi = optimizer_gradient(g[i], clip, w[i], l2);
        const float mi = adam_first_moment(m[i], gi, beta1);
        const float vi = adam_second_moment(v[i], gi, beta2);
        m[i] = mi;
        v[i] = vi;
        w[i] = adam_weight(w[i], mi, vi, lr, eps, decay, c1, c2);
    }
}

extern "C" __global__ void optimizer_update_step(int* step) {
    if (blockIdx.x == 0 && threadIdx.x == 0) step[0] += 1;
}
