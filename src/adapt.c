/* adapt.c — the concurrency policy; see adapt.h. */
#include "dray/adapt.h"

#define HOLD_AFTER_PLATEAU 12    /* windows: the uplink was full; look again later */
#define HOLD_AFTER_CONGESTION 12 /* each probe into the limit costs a refused upload */
#define IDLE_TO_GROW 0.25        /* builders: CPU idle share that wants another build */
#define BUSY_TO_SHRINK 0.05      /* builders: CPU idle share that means saturated */
/* Builders added for starving pushers, as a multiple of the minimum (one
 * per CPU): a build's waits (client start, context, commit) fill with a
 * second build per CPU; past that, on busy CPUs, each build only gets
 * slower and the pushes' compression starves, which starves the pushers
 * further (measured: 8 builders on 2 CPUs, push-heavy, 53.6 s; 2 to 4 of
 * them, 40-43 s). */
#define STARVED_GROWTH 2
/* Busy windows a probed pusher is judged on, and its baseline is taken
 * from: at 2.5 s a window, two hold a handful of pushes. */
#define PROBE_WINDOWS 2

static int clamp(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

void dray_adapt_init(dray_adapt_t *a, const dray_adapt_options_t *opts, int builders,
                     int pushers)
{
  a->opts = *opts;
  a->builders = builders;
  a->pushers = pushers;
  a->probing = 0;
  a->probe_sum = 0;
  a->probe_windows = 0;
  a->rate_before = 0;
  a->rate_last = 0;
  a->hold = 0;
}

static void step_pushers(dray_adapt_t *a, const dray_adapt_sample_t *s)
{
  const dray_adapt_options_t *o = &a->opts;
  if (s->congestion) {
    /* Too much for someone: back off fast, grow again slowly. Half,
     * rounded up: from 3, where a limit of 2 or 3 uploads is met, to 2,
     * not 1 (measured: 1 push leaves a third of the uplink idle). */
    a->pushers = clamp((a->pushers + 1) / 2, o->pushers_min, o->pushers_max);
    a->probing = 0;
    a->rate_last = 0; /* measured with the count just halved */
    a->hold = HOLD_AFTER_CONGESTION;
    return;
  }
  if (a->probing) {
    double rate;
    if (!s->pushers_saturated)
      return; /* the pushes waited for builds, not for the link: no verdict yet */
    a->probe_sum += s->push_rate;
    if (++a->probe_windows < PROBE_WINDOWS)
      return;
    a->probing = 0;
    rate = a->probe_sum / a->probe_windows;
    if (rate <= a->rate_before * (1.0 + o->gain)) {
      /* The last pusher bought nothing: the link is full. */
      a->pushers = clamp(a->pushers - 1, o->pushers_min, o->pushers_max);
      a->rate_last = a->rate_before; /* the count it measured is back */
      a->hold = HOLD_AFTER_PLATEAU;
      return;
    }
    /* Kept: its windows are the baseline of the next one. */
    a->rate_before = a->rate_last = rate;
  } else if (s->pushers_saturated) {
    a->rate_before = a->rate_last > 0 ? (a->rate_last + s->push_rate) / 2 : s->push_rate;
    a->rate_last = s->push_rate;
  }
  if (a->hold > 0) {
    a->hold--;
    return;
  }
  if (s->pushers_saturated && a->pushers < o->pushers_max) {
    a->pushers++;
    a->probing = 1;
    a->probe_sum = 0;
    a->probe_windows = 0;
  }
}

static void step_builders(dray_adapt_t *a, const dray_adapt_sample_t *s)
{
  const dray_adapt_options_t *o = &a->opts;
  if (s->cpu_idle < 0)
    return;
  if (s->builders_saturated
      && (s->cpu_idle > IDLE_TO_GROW
          || (s->pushers_starved && a->builders < STARVED_GROWTH * o->builders_min)))
    a->builders = clamp(a->builders + 1, o->builders_min, o->builders_max);
  else if (s->cpu_idle < BUSY_TO_SHRINK && s->pushers_saturated)
    a->builders = clamp(a->builders - 1, o->builders_min, o->builders_max);
}

int dray_adapt_step(dray_adapt_t *a, const dray_adapt_sample_t *s)
{
  int b = a->builders, p = a->pushers;
  if (a->opts.adapt_pushers)
    step_pushers(a, s);
  if (a->opts.adapt_builders)
    step_builders(a, s);
  return b != a->builders || p != a->pushers;
}
