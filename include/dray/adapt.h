/* adapt.h — how many builds and pushes at once, found while the run goes
 * (--builders auto, --pushers auto).
 *
 * Pushers: start low, add one while the pushers are all busy with more
 * waiting and each one added raised the aggregate push throughput by a
 * real share (GAIN); when one did not, take it back and hold: the uplink or
 * the registry is full. A pusher is judged on the mean of two busy windows
 * against the mean of the two busy windows before it: one window holds a
 * push or two, too few for a throughput to tell a 5% gain from noise. A
 * window in which the pushers were not all busy says nothing about the one
 * added (the builds, not the link, held the pushes back): it waits for the
 * next busy windows. Halve (rounding up) on congestion, and hold: a push
 * stalled, was rate limited, got a 5xx or a reset, or an upload had to be
 * tried again inside a push.
 *
 * Builders: add one while builds wait, all builders are busy, and either
 * the CPUs sit idle or the pushers sit idle waiting for built images (a
 * build is not all CPU: the engine's bookkeeping, layer commits and the
 * client's start-up leave room that more builds at once fill; the
 * pipeline is as fast as its slower stage) — for the latter up to two
 * builders per minimum (one per CPU), beyond which busy CPUs only slow
 * every build. Take one back when the CPUs
 * are saturated while pushes queue behind busy pushers: builds then slow
 * the stage that is behind (pushing compresses layers on the same CPUs).
 * The policy only: the scheduler measures and applies it, once a window.
 * Pure, so a unit test walks it through any history.
 */
#ifndef DRAY_ADAPT_H
#define DRAY_ADAPT_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_adapt_options_t {
  int adapt_builders, adapt_pushers;  /* which limits move */
  int builders_min, builders_max;
  int pushers_min, pushers_max;
  double gain;                        /* a pusher must add this share of throughput */
} dray_adapt_options_t;

/* What one window of the run looked like. */
typedef struct dray_adapt_sample_t {
  double push_rate;          /* bytes/s pushed in the window, all pushes together */
  int pushers_saturated;     /* every push slot busy and pushes waiting, most of the window */
  int pushers_starved;       /* a push slot free and no push waiting, most of the window */
  int congestion;            /* a push attempt ended stalled, rate-limited, 5xx, reset */
  double cpu_idle;           /* share of CPU time idle in the window, < 0 unknown */
  int builders_saturated;    /* every build slot busy and builds waiting, most of the window */
} dray_adapt_sample_t;

typedef struct dray_adapt_t {
  dray_adapt_options_t opts;
  int builders, pushers;     /* the limits now */
  int probing;               /* a pusher was added: judge it in the next busy windows */
  double probe_sum;          /* throughput of the busy windows since, summed */
  int probe_windows;         /* and how many */
  double rate_before;        /* throughput before that pusher */
  double rate_last;          /* the last busy window's throughput, 0 before one */
  int hold;                  /* windows to leave the pushers alone */
} dray_adapt_t;

void dray_adapt_init(dray_adapt_t *adapt, const dray_adapt_options_t *opts, int builders,
                     int pushers);

/* One window's sample in; ADAPT->builders and ->pushers are the new limits.
 * Returns whether either changed. */
int dray_adapt_step(dray_adapt_t *adapt, const dray_adapt_sample_t *sample);

#ifdef __cplusplus
}
#endif
#endif /* DRAY_ADAPT_H */
