// Device.optimizerUpdate: one kernel per rule, one work-item per parameter, with the element updates
// of optimizer_math.h (shared with optimizer.cu). The step count t is an int in the step buffer: the
// update uses t + 1, and optimizer_update_step, enqueued after it on the same in-order queue, stores
// t + 1 (one work-item cannot advance it inside the update without racing the others' reads). Every
// work-item computes the update's learning rate from t + 1 and the schedule's constants
// (scheduled_learning_rate), and clipping's factor from the 1x1 sum of squares reduced on the device (null:
// none).
#include "optimizer_math.h"

inline float clip_factor(__global const float* sum_of_squares, const float max_norm)
{
    return sum_of_squares != 0 ? gradient_clip_scale(sum_of_squares[0], max_norm) : 1.0f;
}

__kernel void optimizer_update_sgd(__global float* w, __global const float* g, const int n, const float base_lr,
                                   const float l2, __global const int* step, __global const float* sum_of_squares,
                                   const float max_norm, const int schedule, const int warmup, const int period,
                                   const float gamma, const int total, const float min_lr)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float lr = scheduled_learning_rate(base_lr, step[0] + 1, schedule, warmup, period, gamma, total, min_lr);
    w[i] = sgd_weight(w[i], optimizer_gradient(g[i], clip_factor(sum_of_squares, max_norm), w[i], l2), lr);
}

__kernel void optimizer_update_momentum(__global float* w, __global const float* g, __global float* v,
                                        const int n, const float base_lr, const float mu, const float l2,
                                        const int nesterov, __global const int* step,
                                        __global const float* sum_of_squares, const float max_norm,
                                        const int schedule, const int warmup, const int period, const float gamma,
                                        const int total, const float min_lr)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float lr = scheduled_learning_rate(base_lr, step[0] + 1, schedule, warmup, period, gamma, total, min_lr);
    const float gi = optimizer_gradient(g[i], clip_factor(sum_of_squares, max_norm), w[i], l2);
    const float vi = momentum_velocity(v[i], gi, mu);
    v[i] = vi;
    w[i] = momentum_weight(w[i], gi, vi, lr, mu, nesterov);
}

__kernel void optimizer_update_adam(__global float* w, __global const float* g, __global float* m,
                                    __global float* v, const int n, const float base_lr, const float beta1,
                                    const float beta2, const float eps, const float l2, const float weight_decay,
                                    __global const int* step, __global const float* sum_of_squares,
                                    const float max_norm, const int schedule, const int warmup, const int period,
                                    const float gamma, const int total, const float min_lr)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const int t = step[0] + 1;
    const float lr = scheduled_learning_rate(base_lr, t, schedule, warmup, period, gamma, total, min_lr);
    const float decay = decoupled_decay(lr, weight_decay);
    const float gi = optimizer_gradient(g[i], clip_factor(sum_of_squares, max_norm), w[i], l2);
    const float mi = adam_first_moment(m[i], gi, beta1);
    const float vi = adam_second_moment(v[i], gi, beta2);
    m[i] = mi;
    v[i] = vi;
    w[i] = adam_weight(w[i], mi, vi, lr, eps, decay, adam_bias_correction(beta1, t), adam_bias_correction(beta2, t));
}

__kernel void optimizer_update_step(__global int* step)
{
    if (get_global_id(0) == 0) step[0] += 1;
}
