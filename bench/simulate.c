/* simulate.c — dray's real scheduler over E engines and N images, on a
 * virtual clock: how close does its placement come to the lower bound?
 *
 * The scheduler (src/scheduler.c) is the one dray runs; only the world
 * around it is modelled:
 *  - each engine has CORES CPUs shared by the builds running on it
 *    (processor sharing: a build of W CPU-seconds alone takes W seconds);
 *  - a build on an engine that does not hold its bases first pulls them
 *    (their bytes at the link's rate);
 *  - pushes share one uplink to the registry (processor sharing); an image
 *    uploads its own layer bytes (its bases' layers are mounted);
 *  - the DAG is shaped like a monorepo: a few bases FROM outside, a tenth of
 *    the images are mid-level images FROM a base, the rest leaves FROM a base
 *    or a mid-level image;
 *  - build work and layer bytes are drawn from a report of a real run
 *    (--report: build_seconds and bytes_pushed of each image), else from a
 *    log-normal spread around --build and --bytes.
 * Estimates given to the scheduler are the drawn build times and the pushes'
 * times alone on the link (as dray reads them from an earlier run's report;
 * --no-push-estimates: build times only).
 *
 * Lower bound: max(critical path, total build work / (E * CORES),
 * total bytes / uplink), where the critical path is the longest chain of
 * build work plus the last image's own push alone on the link.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_getopt.h>
#include <apr_strings.h>
#include <jansson.h>

#include "dray/plan.h"
#include "dray/run.h"
#include "dray/scheduler.h"

typedef struct sim_job_t {
  double work;        /* CPU-seconds of its build */
  double bytes;       /* its own layer bytes */
  double pull;        /* seconds of pulling left before the build's work */
  double left;        /* work (build) or bytes (push) left */
  dray_phase_t phase; /* what runs, when running */
  int running;
} sim_job_t;

typedef struct sim_t {
  double now;         /* seconds */
  int n, engines, cores;
  double uplink;      /* bytes per second */
  sim_job_t *jobs;
  double uplink_busy;  /* seconds with at least one push */
  double cpu_busy;     /* CPU-seconds of build work done */
  dray_run_t *run;
  dray_sched_t *sched;
} sim_t;

/* The virtual clock starts here: time 0 means "never" in the run's record. */
#define SIM_START 1000.0

static apr_time_t sim_now(void *baton)
{
  return (apr_time_t)(((sim_t *)baton)->now * APR_USEC_PER_SEC);
}

/* Bytes of job I's bases (and theirs) that engine E does not hold. */
static double pull_bytes(const sim_t *sim, int i, int e)
{
  const dray_image_t *img = APR_ARRAY_IDX(sim->run->plan->images, i, const dray_image_t *);
  double b = 0;
  int k;
  for (k = 0; img->deps && k < img->deps->nelts; k++) {
    int d = APR_ARRAY_IDX(img->deps, k, int);
    if (APR_ARRAY_IDX(sim->run->jobs, d, dray_job_t *)->built_on != e)
      b += sim->jobs[d].bytes + pull_bytes(sim, d, -1);
  }
  return b;
}

static void sim_start(void *baton, dray_job_t *job, dray_phase_t phase)
{
  sim_t *sim = baton;
  sim_job_t *j = &sim->jobs[job->image->index];
  j->running = 1;
  j->phase = phase;
  if (phase == DRAY_PHASE_BUILD) {
    j->pull = pull_bytes(sim, job->image->index, job->engine) / sim->uplink;
    j->left = j->work;
  } else {
    j->left = j->bytes;
  }
}

static void sim_nop(void *baton)
{
  (void)baton;
}

static void sim_cancel(void *baton, int force)
{
  (void)baton;
  (void)force;
}

/* The rate at which running job I moves now: CPU-s or bytes per second. */
static double rate_of(const sim_t *sim, int i, const int *builds_on, int pushes)
{
  const sim_job_t *j = &sim->jobs[i];
  if (j->phase == DRAY_PHASE_PUSH)
    return sim->uplink / pushes;
  if (j->pull > 0)
    return 1; /* seconds of pulling */
  {
    int e = APR_ARRAY_IDX(sim->run->jobs, i, dray_job_t *)->engine;
    double share = (double)sim->cores / builds_on[e];
    return share < 1 ? share : 1;
  }
}

/* Run until every job has ended; returns the makespan in seconds. */
static double sim_run(sim_t *sim)
{
  int *builds_on = calloc((size_t)sim->engines, sizeof(int));
  int i, guard = 0;
  dray_sched_begin(sim->sched);
  while (!dray_sched_done(sim->sched) && guard++ < 10000000) {
    int pushes = 0;
    double dt = -1;
    memset(builds_on, 0, sizeof(int) * (size_t)sim->engines);
    for (i = 0; i < sim->n; i++) {
      if (!sim->jobs[i].running)
        continue;
      if (sim->jobs[i].phase == DRAY_PHASE_PUSH)
        pushes++;
      else if (sim->jobs[i].pull <= 0)
        builds_on[APR_ARRAY_IDX(sim->run->jobs, i, dray_job_t *)->engine]++;
    }
    for (i = 0; i < sim->n; i++) {
      double r, t;
      if (!sim->jobs[i].running)
        continue;
      r = rate_of(sim, i, builds_on, pushes);
      t = (sim->jobs[i].pull > 0 ? sim->jobs[i].pull : sim->jobs[i].left) / r;
      if (dt < 0 || t < dt)
        dt = t;
    }
    if (dt < 0)
      break; /* nothing runs and not done: the scheduler waits on a timer */
    if (pushes)
      sim->uplink_busy += dt;
    {
      int e2;
      for (e2 = 0; e2 < sim->engines; e2++)
        sim->cpu_busy += dt * (builds_on[e2] < sim->cores ? builds_on[e2] : sim->cores);
    }
    sim->now += dt;
    for (i = 0; i < sim->n; i++) {
      sim_job_t *j = &sim->jobs[i];
      double r;
      if (!j->running)
        continue;
      r = rate_of(sim, i, builds_on, pushes);
      if (j->pull > 0)
        j->pull -= dt * r;
      else
        j->left -= dt * r;
    }
    for (i = 0; i < sim->n; i++) {
      sim_job_t *j = &sim->jobs[i];
      if (j->running && j->pull > 1e-9)
        continue;
      if (j->running && j->pull <= 1e-9)
        j->pull = 0;
      if (j->running && j->left <= 1e-6 * (j->phase == DRAY_PHASE_PUSH ? j->bytes + 1 : 1)) {
        dray_attempt_result_t r;
        memset(&r, 0, sizeof(r));
        r.outcome = DRAY_OUTCOME_OK;
        r.verified = 1;
        r.bytes = (apr_int64_t)j->bytes;
        j->running = 0;
        dray_sched_finished(sim->sched, i, j->phase, &r);
      }
    }
  }
  free(builds_on);
  dray_sched_end(sim->sched);
  return sim->now - SIM_START;
}

/* ---- the workload --------------------------------------------------------- */

static unsigned long long rng_state = 88172645463325252ULL;

static double uniform(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

/* Log-normal around MEDIAN with spread SIGMA. */
static double lognormal(double median, double sigma)
{
  double u1 = uniform(), u2 = uniform();
  double z = sqrt(-2 * log(u1)) * cos(2 * 3.14159265358979 * u2);
  return median * exp(sigma * z);
}

typedef struct sample_t {
  double *work, *bytes;
  int n;
} sample_t;

/* Build seconds and pushed bytes of every image of a dray report. */
static int read_report(sample_t *s, const char *path)
{
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr), *images;
  size_t i;
  if (!root) {
    fprintf(stderr, "simulate: %s:%d: %s\n", path, jerr.line, jerr.text);
    return -1;
  }
  images = json_object_get(root, "images");
  s->n = 0;
  s->work = calloc(json_array_size(images) + 1, sizeof(double));
  s->bytes = calloc(json_array_size(images) + 1, sizeof(double));
  for (i = 0; i < json_array_size(images); i++) {
    json_t *img = json_array_get(images, i);
    double w = json_number_value(json_object_get(img, "build_seconds"));
    double b = json_number_value(json_object_get(img, "bytes_pushed"));
    if (w > 0) {
      s->work[s->n] = w;
      s->bytes[s->n] = b;
      s->n++;
    }
  }
  json_decref(root);
  if (s->n == 0) {
    fprintf(stderr, "simulate: %s: no image with build_seconds\n", path);
    return -1;
  }
  return 0;
}

/* N images shaped like a monorepo, with B bases. */
static dray_plan_t *make_plan(int n, int bases, apr_pool_t *pool)
{
  dray_plan_t *plan = apr_pcalloc(pool, sizeof(*plan));
  int mids = n / 10, i;
  plan->images = apr_array_make(pool, n, sizeof(dray_image_t *));
  for (i = 0; i < n; i++) {
    dray_image_t *img = apr_pcalloc(pool, sizeof(*img));
    img->index = i;
    img->name = apr_psprintf(pool, "i%d", i);
    img->repository = apr_psprintf(pool, "registry.test/i%d", i);
    img->tags = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(img->tags, const char *) = "latest";
    img->deps = apr_array_make(pool, 1, sizeof(int));
    if (i >= bases) {
      int parent = i < bases + mids ? (int)(uniform() * bases)
                                    : (int)(uniform() * (bases + mids));
      APR_ARRAY_PUSH(img->deps, int) = parent;
      img->base_image = APR_ARRAY_IDX(plan->images, parent, dray_image_t *);
      img->base = img->base_image->repository;
    }
    APR_ARRAY_PUSH(plan->images, dray_image_t *) = img;
  }
  return plan;
}

/* ---- the bound --------------------------------------------------------------- */

static double lower_bound(const sim_t *sim, double *cp_out, double *work_out, double *bytes_out)
{
  double *chain = calloc((size_t)sim->n, sizeof(double));
  double cp = 0, work = 0, bytes = 0;
  int i;
  for (i = 0; i < sim->n; i++) {
    const dray_image_t *img = APR_ARRAY_IDX(sim->run->plan->images, i, const dray_image_t *);
    double before = 0;
    if (img->deps->nelts)
      before = chain[APR_ARRAY_IDX(img->deps, 0, int)];
    chain[i] = before + sim->jobs[i].work;
    if (chain[i] + sim->jobs[i].bytes / sim->uplink > cp)
      cp = chain[i] + sim->jobs[i].bytes / sim->uplink;
    work += sim->jobs[i].work;
    bytes += sim->jobs[i].bytes;
  }
  free(chain);
  *cp_out = cp;
  *work_out = work / (sim->engines * sim->cores);
  *bytes_out = bytes / sim->uplink;
  return fmax(cp, fmax(*work_out, *bytes_out));
}

static void usage(void)
{
  fprintf(stderr,
          "usage: dray-simulate [--engines LIST] [--images N] [--bases B] [--cores C]\n"
          "                     [--builders J] [--pushers P] [--uplink MBPS]\n"
          "                     [--build SECONDS] [--bytes MB] [--report FILE] [--seed S]\n"
          "                     [--no-push-estimates]\n"
          "  LIST: engine counts to simulate, comma-separated (default 1,2,4,8,16)\n");
}

int main(int argc, const char *const *argv)
{
  static const apr_getopt_option_t options[] = {
    {"engines", 'e', 1, NULL}, {"images", 'n', 1, NULL}, {"bases", 'b', 1, NULL},
    {"cores", 'c', 1, NULL},   {"builders", 'j', 1, NULL}, {"pushers", 'p', 1, NULL},
    {"uplink", 'u', 1, NULL},  {"build", 'w', 1, NULL},   {"bytes", 'm', 1, NULL},
    {"report", 'r', 1, NULL},  {"seed", 's', 1, NULL},    {"help", 'h', 0, NULL},
    {"no-push-estimates", 'P', 0, NULL},
    {NULL, 0, 0, NULL}};
  apr_pool_t *pool;
  apr_getopt_t *os;
  const char *arg, *engine_list = "1,2,4,8,16", *report = NULL;
  int no_push_estimates = 0;
  int opt, n = 100, bases = 4, cores = 2, builders = 0, pushers = 2;
  double uplink_mb = 50, build_median = 20, bytes_median = 30;
  unsigned long long seed = 1;
  sample_t sample = {NULL, NULL, 0};
  apr_status_t st;
  char *list, *tok, *last;

  apr_app_initialize(&argc, &argv, NULL);
  apr_pool_create(&pool, NULL);
  apr_getopt_init(&os, pool, argc, argv);
  while ((st = apr_getopt_long(os, options, &opt, &arg)) == APR_SUCCESS) {
    switch (opt) {
    case 'e': engine_list = arg; break;
    case 'n': n = atoi(arg); break;
    case 'b': bases = atoi(arg); break;
    case 'c': cores = atoi(arg); break;
    case 'j': builders = atoi(arg); break;
    case 'p': pushers = atoi(arg); break;
    case 'u': uplink_mb = atof(arg); break;
    case 'w': build_median = atof(arg); break;
    case 'm': bytes_median = atof(arg); break;
    case 'r': report = arg; break;
    case 's': seed = strtoull(arg, NULL, 10); break;
    case 'P': no_push_estimates = 1; break;
    default: usage(); return 0;
    }
  }
  if (st != APR_EOF || n < 1 || bases < 1 || bases > n || cores < 1 || pushers < 1
      || uplink_mb <= 0) {
    usage();
    return 2;
  }
  if (builders < 1)
    builders = cores; /* dray's default: one build per CPU */
  if (report && read_report(&sample, report) != 0)
    return 2;

  printf("N=%d bases=%d cores/engine=%d builders/engine=%d pushers/engine=%d uplink=%.0f MB/s "
         "work from %s\n", n, bases, cores, builders, pushers, uplink_mb,
         report ? report : "log-normal");
  printf("%8s %12s %12s %8s %10s %10s %10s %10s %10s\n", "engines", "makespan_s", "bound_s",
         "ratio", "chain_s", "work/E_s", "bytes/up_s", "uplink", "cpu");
  list = apr_pstrdup(pool, engine_list);
  for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
    apr_pool_t *iter;
    sim_t sim;
    dray_sched_options_t o;
    dray_runner_t runner;
    dray_clock_t clock;
    dray_engine_spec_t *specs;
    double *est, *pest, makespan, bound, cp, work, bytes;
    int i, e = atoi(tok);
    if (e < 1)
      continue;
    apr_pool_create(&iter, pool);
    rng_state = 88172645463325252ULL ^ (seed * 2654435761ULL); /* same workload for each E */
    memset(&sim, 0, sizeof(sim));
    sim.now = SIM_START;
    sim.n = n;
    sim.engines = e;
    sim.cores = cores;
    sim.uplink = uplink_mb * 1e6;
    sim.jobs = apr_pcalloc(iter, sizeof(sim_job_t) * (apr_size_t)n);
    est = apr_pcalloc(iter, sizeof(double) * (apr_size_t)n);
    pest = apr_pcalloc(iter, sizeof(double) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
      if (sample.n) {
        int k = (int)(uniform() * sample.n);
        sim.jobs[i].work = sample.work[k];
        sim.jobs[i].bytes = sample.bytes[k];
      } else {
        sim.jobs[i].work = lognormal(build_median, 0.6);
        sim.jobs[i].bytes = lognormal(bytes_median * 1e6, 0.8);
      }
      est[i] = sim.jobs[i].work;
      pest[i] = sim.jobs[i].bytes / sim.uplink;
    }
    sim.run = dray_run_create(make_plan(n, bases, iter), DRAY_MODE_RUN, iter);
    specs = apr_pcalloc(iter, sizeof(*specs) * (apr_size_t)e);
    for (i = 0; i < e; i++)
      specs[i].name = apr_psprintf(iter, "engine%d", i);
    memset(&o, 0, sizeof(o));
    o.builders = builders;
    o.pushers = pushers;
    o.retry_base = apr_time_from_sec(1);
    o.retry_max = apr_time_from_sec(10);
    o.kill_grace = apr_time_from_sec(2);
    o.seed = seed;
    o.build_estimates = est;
    if (!no_push_estimates)
      o.push_estimates = pest;
    o.layer_aware_push = 1;
    o.engines = specs;
    o.n_engines = e;
    memset(&runner, 0, sizeof(runner));
    runner.start = sim_start;
    runner.drain = sim_nop;
    runner.cancel = sim_cancel;
    runner.baton = &sim;
    clock.now = sim_now;
    clock.baton = &sim;
    sim.sched = dray_sched_create(sim.run, &o, &runner, &clock, iter);
    makespan = sim_run(&sim);
    bound = lower_bound(&sim, &cp, &work, &bytes);
    printf("%8d %12.1f %12.1f %8.3f %10.1f %10.1f %10.1f %9.0f%% %9.0f%%\n", e, makespan, bound,
           makespan / bound, cp, work, bytes, 100 * sim.uplink_busy / makespan,
           100 * sim.cpu_busy / (makespan * e * cores));
    apr_pool_destroy(iter);
  }
  free(sample.work);
  free(sample.bytes);
  apr_pool_destroy(pool);
  apr_terminate();
  return 0;
}
