/* erlang — see erlang.h. Erlang C from the Erlang B recursion, which is
 * numerically stable for large c and loads (no factorials or powers). */
#include "erlang.h"

#include <math.h>

/* Erlang B (blocking probability) by B(k) = a B(k-1) / (k + a B(k-1)). */
static double s_erlang_b(int c, double a)
{
    double b = 1.0;
    for (int k = 1; k <= c; k++)
        b = a * b / (k + a * b);
    return b;
}

double erl_c(int c, double a)
{
    if (a <= 0)
        return 0.0;
    if (c < 1 || a >= c)
        return 1.0;
    double b = s_erlang_b(c, a);
    return c * b / (c - a * (1.0 - b));
}

double erl_wait_s(double lambda, double mu, int c)
{
    if (c < 1 || lambda >= c * mu)
        return INFINITY;
    return erl_c(c, lambda / mu) / (c * mu - lambda) + 1.0 / mu;
}

int erl_lanes_needed(double lambda, double mu, double target_s, int max_c)
{
    if (lambda <= 0)
        return 0;
    if (1.0 / mu > target_s)
        return -1;
    /* Below ceil(a) lanes the queue is unstable; start there. */
    int c = (int)floor(lambda / mu) + 1;
    for (; c <= max_c; c++)
        if (erl_wait_s(lambda, mu, c) <= target_s)
            return c;
    return -1;
}
