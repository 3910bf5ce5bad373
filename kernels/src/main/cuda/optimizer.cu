// Optimizer updates, grid-stride over the parameters; the formulas are Optimizer's javadoc.
// l2: classic decay folded into the gradient (0 for biases).
#include "common.cuh"

extern "C" __global__ void sgd_update(float* w, const float* g, long long n, float lr, float l2) {
    FOR_EACH_INDEX(i, n) w[i] -= lr * (g[i] + l2 * w[i]);
}

extern "C" __global__ void momentum_update(float* w, const float* g, float* v, long long n, float lr, float mu,
                                           float l2, int nesterov) {
    FOR_EACH_INDEX(i, n) {
        const float gi = g[i] + l2 * w[i];
        const float vi = mu * v[i] + gi;
        v[i] = vi;
        w[i] -= lr * (nesterov ? gi + mu * vi : vi);
    }
}

// Adam's step t lives on the device (advanced by adam_advance_step just before), so a captured CUDA
// graph replays with the right bias correction instead of the t it was recorded with.
extern "C" __global__ void adam_advance_step(long long* t) {
    if (blockIdx.x == 0 && threadIdx.x == 0) t[0] += 1;
}

// decay = 1 - lr*wd for AdamW, 1 otherwise.
extern "C" __global__ void adam_update(float* w, const float* g, float* m, float* v, long long n, float lr,
                                       float beta1, float beta2, float eps, float l2, float decay,
                                       const long long* t) {
    const float step = (float)t[0];
    const float c1 = 1.0f / (1.0f - powf(beta1, step));
    const float c2 = 1.0f / (1.0f - powf(beta2, step));
    FOR_EACH_INDEX(i, n) {
        const float gi = g[i] + l2 * w[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - lr * (mi * c1) / (sqrtf(vi * c2) + eps);
    }
}
