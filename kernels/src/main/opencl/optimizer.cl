// Optimizer updates, one work-item per parameter; the formulas are Optimizer's javadoc.
// l2: classic decay folded into the gradient (0 for biases).

__kernel void sgd_update(__global float* w, __global const float* g, const int n, const float lr, const float l2)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    w[i] -= lr * (g[i] + l2 * w[i]);
}

__kernel void momentum_update(__global float* w, __global const float* g, __global float* v, const int n,
                              const float lr, const float mu, const float l2, const int nesterov)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[i] + l2 * w[i];
    const float vi = mu * v[i] + gi;
    v[i] = vi;
    w[i] -= lr * (nesterov ? gi + mu * vi : vi);
}

// c1 = 1/(1-beta1^t), c2 = 1/(1-beta2^t) come from the host; decay = 1 - lr*wd (AdamW, else 1).
__kernel void adam_update(__global float* w, __global const float* g, __global float* m, __global float* v,
                          const int n, const float lr, const float beta1, const float beta2, const float eps,
                          const float l2, const float c1, const float c2, const float decay)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float gi = g[i] + l2 * w[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * decay - lr * (mi * c1) / (sqrt(vi * c2) + eps);
}
