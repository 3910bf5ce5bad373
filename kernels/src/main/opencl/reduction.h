// Shared by the OpenCL kernels that reduce (loss.cl, sum_of_squares.cl): Kahan steps and a work-group's
// tree sum, each in an order fixed by the sizes alone.
#ifndef BACKPROP4J_REDUCTION_H
#define BACKPROP4J_REDUCTION_H

// One step of Kahan summation: *sum += v, with *comp carrying what the last additions rounded away.
inline void kahan_add(float* sum, float* comp, const float v)
{
    const float y = v - *comp;
    const float t = *sum + y;
    *comp = (t - *sum) - y;
    *sum = t;
}

// The sum of every work-item's v over a work-group of a power-of-two size, pairwise in a fixed tree, in
// part (one float per work-item); valid in work-item 0.
inline float group_sum(__local float* part, const float v)
{
    const int lid = get_local_id(0);
    part[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s) part[lid] += part[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

#endif
