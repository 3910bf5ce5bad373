// Device.lossGradient in two kernels: loss_gradient writes delta and each row's loss (loss_math.h,
// shared with loss.cu), then loss_gradient_sum adds the rows into the 1x1 accumulator in an order
// fixed by the row count alone (no atomics): the same input gives the same bits on every run.
#include "loss_math.h"
#include "reduction.h"

// One work-item per row, columns in order.
__kernel void loss_gradient(__global const float* yhat, __global const float* y, __global float* delta,
                            const int rows, const int cols, const int loss, const float inv_n,
                            __global float* row_loss)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    float l = 0.0f;
    for (int j = 0; j < cols; j++) {
        const int i = r * cols + j;
        delta[i] = loss_gradient_value(yhat[i], y[i], inv_n);
        l += loss_term(loss, yhat[i], y[i]);
    }
    row_loss[r] = l;
}

// One work-group of LOSS_SUM_GROUP: lane k sums rows k, k + LOSS_SUM_GROUP, ... (Kahan), then the
// lanes are added pairwise in a fixed tree.
#define LOSS_SUM_GROUP 256
__kernel __attribute__((reqd_work_group_size(LOSS_SUM_GROUP, 1, 1)))
void loss_gradient_sum(__global const float* row_loss, const int rows, __global float* loss_sum)
{
    __local float part[LOSS_SUM_GROUP];
    float sum = 0.0f, comp = 0.0f;
    for (int i = get_local_id(0); i < rows; i += LOSS_SUM_GROUP) kahan_add(&sum, &comp, row_loss[i]);
    const float total = group_sum(part, sum);
    if (get_local_id(0) == 0) loss_sum[0] += total;
}
