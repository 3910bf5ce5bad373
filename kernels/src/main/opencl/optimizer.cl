// Device.optimizerUpdate: one kernel per rule, one work-item per parameter, with the element updates of
// optimizer_math.h (shared with optimizer.cu). The step count t is an int in the step buffer: the update
// uses t + 1, and optimizer_update_step, enqueued after it on the same in-order queue, stores t + 1 (one
// work-item cannot advance it inside the update without racing the others' reads). The update's scalars
// (the learning rate from t + 1 and the schedule's constants, clipping's factor from the 1x1 sum of
// squares reduced on the device or 1 without one, Adam's decay and bias corrections) are computed once per
// work-group by its first work-item and shared through local memory: on a CPU device (PoCL) every
// work-item's copy of a cos or an expm1 is paid for.
#include "optimizer_math.h"

#define UPDATE_LR 0
#define UPDATE_CLIP 1
#define UPDATE_DECAY 2
#define UPDATE_C1 3
#define UPDATE_C2 4

// The rate and the clipping factor into s[UPDATE_LR], s[UPDATE_CLIP] (work-item 0 of the group only).
inline void update_scalars(__local float* s, const int t, const float base_lr, __global const float* sum_of_squares,
                           const float max_norm, const int schedule, const int warmup, const int period,
                           const float gamma, const int total, const float min_lr)
{
    s[UPDATE_LR] = scheduled_learning_rate(base_lr, t, schedule, warmup, period, gamma, total, min_lr);
    s[UPDATE_CLIP] = sum_of_squares != 0 ? gradient_clip_scale(sum_of_squares[0], max_norm) : 1.0f;
}

__kernel void optimizer_update_sgd(__global float* w, __global const float* g, const int n, const float base_lr,
                                   const float l2, __global const int* step, __global const float* sum_of_squares,
                                   const float max_norm, const int schedule, const int warmup, const int period,
                                   const float gamma, const int total, const float min_lr)
{
    __local float s[2];
    if (get_local_id(0) == 0)
        update_scalars(s, step[0] + 1, base_lr, sum_of_squares, max_norm, schedule, warmup, period, gamma, total, min_lr);
    barrier(CLK_LOCAL_MEM_FENCE);
    const int i = get_global_id(0);
    if (i >= n) return;
    w[i] = sgd_weight(w[i], optimizer_gradient(g[i], s[UPDATE_CLIP], w[i], l2), s[UPDATE_LR]);
}

__kernel void optimizer_update_momentum(__global float* w, __global const float* g, __global float* v,
                                        const int n, const float base_lr, const float mu, const float l2,
                                        const int nesterov, __global const int* step,
                                        __global const float* sum_of_squares, const float max_norm,
                                        const int schedule, const int warmup, const int period, const float gamma,
                                        const int total, const float min_lr)
{
    __local float s[2];
    if (get_local_id(0) == 0)
        update_scalars(s, step[0] + 1, base_lr, sum_of_squares, max_norm, schedule, warmup, period, gamma, total, min_lr);
    barrier(CLK_LOCAL_MEM_FENCE);
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = optimizer_gradient(g[i], s[UPDATE_CLIP], w[i], l2);
    const float vi = momentum_velocity(v[i], gi, mu);
    v[i] = vi;
    w[i] = momentum_weight(w[i], gi, vi, s[UPDATE_LR], mu, nesterov);
}

__kernel void optimizer_update_adam(__global float* w, __global const float* g, __global float* m,
                                    __global float* v, const int n, const float base_lr, const float beta1,
                                    const float beta2, const float eps, const float l2, const float weight_decay,
                                    __global const int* step, __global const float* sum_of_squares,
                                    const float max_norm, const int schedule, const int warmup, const int period,
                                    const float gamma, const int total, const float min_lr)
{
    __local float s[5];
    if (get_local_id(0) == 0) {
        const int t = step[0] + 1;
        update_scalars(s, t, base_lr, sum_of_squares, max_norm, schedule, warmup, period, gamma, total, min_lr);
        s[UPDATE_DECAY] = decoupled_decay(s[UPDATE_LR], weight_decay);
        s[UPDATE_C1] = adam_bias_correction(beta1, t);
        s[UPDATE_C2] = adam_bias_correction(beta2, t);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = optimizer_gradient(g[i], s[UPDATE_CLIP], w[i], l2);
    const float mi = adam_first_moment(m[i], gi, beta1);
    const float vi = adam_second_moment(v[i], gi, beta2);
    m[i] = mi;
    v[i] = vi;
    w[i] = adam_weight(w[i], mi, vi, s[UPDATE_LR], eps, s[UPDATE_DECAY], s[UPDATE_C1], s[UPDATE_C2]);
}

__kernel void optimizer_update_step(__global int* step)
{
    if (get_global_id(0) == 0) step[0] += 1;
}
