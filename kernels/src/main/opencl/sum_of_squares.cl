// Device.sumOfSquares: out <- (accumulate ? out : 0) + sum of m[i]^2, the squared global gradient norm that
// clipping reads. sum_of_squares runs SUM_OF_SQUARES_GROUPS work-groups of SUM_OF_SQUARES_GROUP (whatever
// n is): each work-item Kahan-sums a fixed stride, each group adds its work-items in a fixed tree into
// group_partial; sum_of_squares_total adds the groups in order. No atomics: the same bits run after run.
#include "reduction.h"

#define SUM_OF_SQUARES_GROUP 64

__kernel __attribute__((reqd_work_group_size(SUM_OF_SQUARES_GROUP, 1, 1)))
void sum_of_squares(__global const float* m, const int n, __global float* group_partial)
{
    __local float part[SUM_OF_SQUARES_GROUP];
    float sum = 0.0f, comp = 0.0f;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) kahan_add(&sum, &comp, m[i] * m[i]);
    const float total = group_sum(part, sum);
    if (get_local_id(0) == 0) group_partial[get_group_id(0)] = total;
}

// One work-item adds the groups' partials in order.
__kernel void sum_of_squares_total(__global const float* group_partial, const int groups, const int accumulate,
                                   __global float* out)
{
    if (get_global_id(0) != 0) return;
    float sum = 0.0f, comp = 0.0f;
    for (int g = 0; g < groups; g++) kahan_add(&sum, &comp, group_partial[g]);
    out[0] = accumulate ? out[0] + sum : sum;
}
