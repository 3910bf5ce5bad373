// Loss gradient at the output: delta = (yHat - y) / n for every pairing the trainer allows, plus the
// per-row loss, reduced into the 1x1 loss accumulator by loss_accumulate (one work-group).

__kernel void loss_gradient(__global const float* yhat, __global const float* y, __global float* delta,
                            const int rows, const int cols, const int loss, const float inv_n,
                            __global float* row_loss)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    float l = 0.0f;
    for (int j = 0; j < cols; j++) {
        const int i = r * cols + j;
        const float p = yhat[i], t = y[i], diff = p - t;
        delta[i] = diff * inv_n;
        if (loss == LOSS_MSE) {
            l += 0.5f * diff * diff;
        } else {
            // clamp() of NaN may return a bound: keep NaN so a diverged output never reads as a finite loss
            const float q = isnan(p) ? p : clamp(p, LOG_EPS, 1.0f - LOG_EPS);
            if (loss == LOSS_BCE) l -= t * log(q) + (1.0f - t) * log(1.0f - q);
            else if (t != 0.0f || isnan(p)) l -= t * log(q);   // 0·log(NaN) keeps a NaN output visible
        }
    }
    row_loss[r] = l;
}

#define REDUCE_WG 256
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void loss_accumulate(__global const float* row_loss, const int rows, __global float* loss_sum)
{
    __local float part[REDUCE_WG];
    const int lid = get_local_id(0);
    float sum = 0.0f, comp = 0.0f;
    for (int i = lid; i < rows; i += REDUCE_WG) {
        const float y = row_loss[i] - comp;
        const float t = sum + y;
        comp = (t - sum) - y;
        sum = t;
    }
    part[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = REDUCE_WG / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] += part[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) loss_sum[0] += part[0];
}
