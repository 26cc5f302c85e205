/* pipeline.c — the scheduler fed by real builder and pusher threads, and the
 * dry run, fed by a runner that only prints. See pipeline.h. */
#include "dray/pipeline.h"

#include <string.h>

#include <apr_atomic.h>
#include <apr_queue.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/cancel.h"
#include "dray/child.h"
#include "dray/engines.h"
#include "dray/interrupts.h"
#include "dray/joblog.h"
#include "dray/platform.h"
#include "dray/pools.h"
#include "dray/workers.h"

#define TICK_INTERVAL apr_time_from_msec(100)
#define PROGRESS_INTERVAL apr_time_from_msec(250)
#define MESSAGE_QUEUE_SIZE 1024

/* ---- runner results the scheduler's thread handles later ---------------- */

/* Work a runner could not hand on (a drain took it back): reported to the
 * scheduler after the call that caused it returns, never from inside it. */
typedef struct deferred_t {
  int job;
  dray_phase_t phase;
  int not_started;
} deferred_t;

static void defer(apr_array_header_t *deferred, int job, dray_phase_t phase, int not_started)
{
  deferred_t *d = &APR_ARRAY_PUSH(deferred, deferred_t);
  d->job = job;
  d->phase = phase;
  d->not_started = not_started;
}

/* ---- messages from the threads ------------------------------------------ */

typedef enum msg_type_t {
  PIPE_MSG_TICK = 1,
  PIPE_MSG_INTERRUPT,
  PIPE_MSG_FINISHED,
  PIPE_MSG_NOT_STARTED,
  PIPE_MSG_PROGRESS,
  PIPE_MSG_PUSH_BEGAN,
  PIPE_MSG_ENGINE_DOWN            /* the engine watcher: ENGINE does not answer */
} msg_type_t;

typedef struct msg_t {
  msg_type_t type;
  int job;                        /* index, or -1 */
  dray_phase_t phase;
  dray_interrupt_kind_t interrupt;
  apr_time_t when;                /* PIPE_MSG_PUSH_BEGAN */
  dray_attempt_result_t result;   /* PIPE_MSG_FINISHED; strings in POOL */
  dray_push_progress_t progress;  /* PIPE_MSG_PROGRESS; status is a static word */
  int engine;                     /* PIPE_MSG_FINISHED: the attempt's engine; ENGINE_DOWN */
  const char *engine_down;        /* ...which does not answer: how, or NULL */
  apr_pool_t *pool;               /* owns the message; NULL for the tick */
} msg_t;

/* Posted by the ticker again and again: never freed. */
static msg_t tick_msg = {.type = PIPE_MSG_TICK, .job = -1, .phase = DRAY_PHASE_BUILD,
                         .interrupt = DRAY_INTERRUPT_INT};

typedef struct pipeline_t {
  const dray_pipeline_options_t *opts;
  apr_queue_t *messages;
  apr_pool_t *msg_parent;         /* thread-safe: each message's pool is its child */
  dray_cancel_t *cancel;
  dray_workers_t *builders, *pushers;
  apr_array_header_t *deferred;   /* deferred_t; scheduler thread only */
  volatile apr_uint32_t ticker_stop;
  /* Several engines: each has a token of its own, triggered with the run's
   * and alone when the engine goes down (what hangs there is stopped). */
  dray_cancel_t **engine_cancel;
  volatile apr_uint32_t *engine_down; /* set once an engine is known down */
  dray_cancel_t *watch_cancel;    /* ends a probe of the watcher when the run ends */
  int pushes;                     /* the run pushes what it builds */
} pipeline_t;

/* Every ENGINE_WATCH_INTERVAL the watcher asks each live engine whether it
 * answers: an engine that hangs fails no attempt, so only asking finds it. */
#define ENGINE_WATCH_INTERVAL apr_time_from_sec(10)

static msg_t *msg_new(pipeline_t *p, msg_type_t type, int job, dray_phase_t phase)
{
  apr_pool_t *pool;
  msg_t *m;
  pool = dray_pool_create_sub(p->msg_parent);
  m = apr_pcalloc(pool, sizeof(*m));
  m->type = type;
  m->job = job;
  m->phase = phase;
  m->pool = pool;
  return m;
}

static void msg_free(msg_t *m)
{
  if (m->pool)
    apr_pool_destroy(m->pool);
}

static void post(pipeline_t *p, msg_t *m)
{
  apr_status_t st;
  do {
    st = apr_queue_push(p->messages, m);
  } while (APR_STATUS_IS_EINTR(st));
  if (st != APR_SUCCESS)
    msg_free(m); /* the queue is closed: nobody listens any more */
}

/* ---- the work of the threads -------------------------------------------- */

static const dray_build_options_t *build_options(const pipeline_t *p, const dray_job_t *job)
{
  return p->opts->n_engines ? p->opts->engines[job->engine].build : p->opts->build;
}

static const dray_pusher_t *pusher_of(const pipeline_t *p, const dray_job_t *job)
{
  return p->opts->n_engines ? p->opts->engines[job->engine].pusher : p->opts->pusher;
}

/* The engine command of the run, for probes through the CLI. */
/* The token that stops JOB's work: its engine's, with several. */
static dray_cancel_t *cancel_of(const pipeline_t *p, const dray_job_t *job)
{
  return p->engine_cancel ? p->engine_cancel[job->engine] : p->cancel;
}

static const char *engine_cmd(const pipeline_t *p)
{
  const dray_build_options_t *b = p->opts->n_engines ? p->opts->engines[0].build : p->opts->build;
  return b && b->engine_cmd ? b->engine_cmd : "docker";
}

/* One phase's work on JOB, with its log open: fills M->result (its strings
 * in M->pool) and returns the error that ended it, if any. */
typedef dray_error_t *(*job_work_fn)(pipeline_t *p, dray_job_t *job, apr_file_t *log, msg_t *m,
                                     apr_pool_t *scratch_pool);

/* What both pools' threads do with a job: open its log, do the work, put
 * the error in the log and the message, post the message. */
static void run_job(pipeline_t *p, dray_job_t *job, dray_phase_t phase, job_work_fn work,
                    apr_pool_t *scratch_pool)
{
  msg_t *m = msg_new(p, PIPE_MSG_FINISHED, job->image->index, phase);
  apr_file_t *log = NULL;
  dray_error_t *err = dray_joblog_open(&log, job, scratch_pool);

  if (err)
    m->result.outcome = DRAY_OUTCOME_NOT_STARTED;
  else
    err = work(p, job, log, m, scratch_pool);
  /* The attempt's time is its work's, not the engine probe's below nor
   * the wait for the scheduler to hear. */
  if (!m->result.ended)
    m->result.ended = apr_time_now();
  if (err) {
    m->result.error = dray_error_format(err, m->pool);
    if (log)
      apr_file_printf(log, "dray: %s\n", m->result.error);
    dray_error_clear(err);
  }
  m->engine = job->engine;
  if (p->opts->n_engines > 1 && m->result.outcome != DRAY_OUTCOME_OK
      && m->result.outcome != DRAY_OUTCOME_CANCELLED && dray_cancel_level(p->cancel) == 0
      && !apr_atomic_read32(&p->engine_down[job->engine])) {
    /* Did the attempt fail, or its engine? Only the engine can say. */
    const dray_engine_target_t *target = p->opts->engines[job->engine].target;
    dray_error_t *down = target ? dray_engine_target_probe(target, engine_cmd(p), p->cancel,
                                                           scratch_pool)
                                : DRAY_NO_ERROR;
    if (down && dray_cancel_level(p->cancel) > 0) { /* stopped by Ctrl+C: says nothing */
      dray_error_clear(down);
      down = NULL;
    }
    if (down) {
      apr_atomic_set32(&p->engine_down[job->engine], 1);
      m->engine_down = dray_error_format(down, m->pool);
      if (log)
        apr_file_printf(log, "dray: the engine does not answer: %s\n", m->engine_down);
      dray_error_clear(down);
    }
  }
  if (log)
    apr_file_close(log);
  post(p, m);
}

static dray_error_t *build_work(pipeline_t *p, dray_job_t *job, apr_file_t *log, msg_t *m,
                                apr_pool_t *scratch_pool)
{
  const char *iidfile = apr_pstrcat(scratch_pool, job->log_path, ".iid", NULL);
  dray_build_result_t res;
  dray_error_t *err = dray_build_image(&res, job->image, build_options(p, job), log, iidfile,
                                       cancel_of(p, job), m->pool, scratch_pool);
  m->result.outcome = err ? res.outcome : DRAY_OUTCOME_OK;
  m->result.image_id = res.image_id;
  /* The image's read for its push costs CPU and no uplink: done here, on
   * the builder's slot, it leaves the push slot to the upload alone. */
  if (!err && p->pushes)
    dray_push_prepare(pusher_of(p, job), job->image, log, cancel_of(p, job), scratch_pool);
  return err;
}

typedef struct progress_baton_t {
  pipeline_t *p;
  int job;
  apr_time_t last;
} progress_baton_t;

static void on_push_progress(void *baton, const dray_push_progress_t *progress)
{
  progress_baton_t *pb = baton;
  apr_time_t now = apr_time_now();
  msg_t *m;
  /* The scheduler needs a picture, not every byte. */
  if (now - pb->last < PROGRESS_INTERVAL)
    return;
  pb->last = now;
  m = msg_new(pb->p, PIPE_MSG_PROGRESS, pb->job, DRAY_PHASE_PUSH);
  m->progress = *progress;
  post(pb->p, m);
}

static dray_error_t *push_work(pipeline_t *p, dray_job_t *job, apr_file_t *log, msg_t *m,
                               apr_pool_t *scratch_pool)
{
  progress_baton_t pb = {p, job->image->index, 0};
  dray_push_image_result_t res;
  dray_error_t *err;
  int slot = -1;

  if (p->opts->slots) {
    msg_t *began;
    /* The attempt begins when it holds a machine-wide slot. */
    err = dray_slots_acquire(&slot, p->opts->slots, cancel_of(p, job));
    if (err) {
      m->result.outcome = dray_error_has(err, DRAY_ERR_CANCELLED) ? DRAY_OUTCOME_CANCELLED
                                                                : DRAY_OUTCOME_NOT_STARTED;
      return err;
    }
    began = msg_new(p, PIPE_MSG_PUSH_BEGAN, job->image->index, DRAY_PHASE_PUSH);
    began->when = apr_time_now();
    post(p, began);
    if (log)
      apr_file_printf(log, "dray: holding push slot %d of %s\n", slot,
                      dray_slots_describe(p->opts->slots, scratch_pool));
  }
  err = dray_push_image(&res, pusher_of(p, job), job->image, log, cancel_of(p, job), on_push_progress,
                        &pb, m->pool, scratch_pool);
  if (slot >= 0) {
    /* Ended before the slot is free: another process may take it at once. */
    m->result.ended = apr_time_now();
    dray_slots_release(p->opts->slots, slot);
  }
  m->result.outcome = res.outcome;
  m->result.retry_after = res.retry_after;
  m->result.tag_digests = res.tag_digests;
  m->result.up_to_date = res.up_to_date;
  m->result.verified = res.verified;
  m->result.bytes = res.bytes;
  m->result.resumed = res.resumed;
  m->result.bytes_saved = res.bytes_saved;
  return err;
}

static void run_build(void *baton, void *item, apr_pool_t *scratch_pool)
{
  run_job(baton, item, DRAY_PHASE_BUILD, build_work, scratch_pool);
}

static void run_push(void *baton, void *item, apr_pool_t *scratch_pool)
{
  run_job(baton, item, DRAY_PHASE_PUSH, push_work, scratch_pool);
}

static void handed_back(void *baton, void *item, dray_phase_t phase)
{
  pipeline_t *p = baton;
  dray_job_t *job = item;
  post(p, msg_new(p, PIPE_MSG_NOT_STARTED, job->image->index, phase));
}

static void build_not_started(void *baton, void *item)
{
  handed_back(baton, item, DRAY_PHASE_BUILD);
}

static void push_not_started(void *baton, void *item)
{
  handed_back(baton, item, DRAY_PHASE_PUSH);
}

static void *APR_THREAD_FUNC ticker_main(apr_thread_t *thd, void *data)
{
  pipeline_t *p = data;
  while (!apr_atomic_read32(&p->ticker_stop)) {
    apr_sleep(TICK_INTERVAL);
    /* A full queue means the scheduler is busy anyway: drop the tick. */
    apr_queue_trypush(p->messages, &tick_msg);
  }
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)thd;
  return NULL;
}

static void *APR_THREAD_FUNC engine_watch_main(apr_thread_t *thd, void *data)
{
  pipeline_t *p = data;
  apr_pool_t *pool = NULL;
  apr_time_t next = apr_time_now() + ENGINE_WATCH_INTERVAL;
  int e;

  apr_pool_create(&pool, NULL);
  while (!apr_atomic_read32(&p->ticker_stop)) {
    apr_sleep(TICK_INTERVAL);
    if (apr_time_now() < next)
      continue;
    for (e = 0; e < p->opts->n_engines && !apr_atomic_read32(&p->ticker_stop); e++) {
      const dray_engine_target_t *target = p->opts->engines[e].target;
      dray_error_t *err;
      if (!target || apr_atomic_read32(&p->engine_down[e]))
        continue;
      apr_pool_clear(pool);
      err = dray_engine_target_probe(target, engine_cmd(p), p->watch_cancel, pool);
      if (err && !apr_atomic_read32(&p->ticker_stop)) {
        msg_t *m = msg_new(p, PIPE_MSG_ENGINE_DOWN, -1, DRAY_PHASE_BUILD);
        apr_atomic_set32(&p->engine_down[e], 1);
        m->engine = e;
        m->engine_down = dray_error_format(err, m->pool);
        post(p, m);
      }
      dray_error_clear(err);
    }
    next = apr_time_now() + ENGINE_WATCH_INTERVAL;
  }
  apr_pool_destroy(pool);
  (void)thd;
  return NULL;
}

/* The run's cancel reaches every engine's token. */
static void cancel_engines(void *baton, int force)
{
  pipeline_t *p = baton;
  int e;
  for (e = 0; e < p->opts->n_engines; e++)
    dray_cancel_trigger(p->engine_cancel[e], force);
}

static void on_interrupt(void *baton, dray_interrupt_kind_t kind)
{
  pipeline_t *p = baton;
  msg_t *m = msg_new(p, PIPE_MSG_INTERRUPT, -1, DRAY_PHASE_BUILD);
  m->interrupt = kind;
  post(p, m);
}

/* ---- the runner the scheduler sees --------------------------------------- */

static void runner_start(void *baton, dray_job_t *job, dray_phase_t phase)
{
  pipeline_t *p = baton;
  dray_workers_t *w = phase == DRAY_PHASE_BUILD ? p->builders : p->pushers;
  /* The scheduler starts only what a free thread can take: a refusal means
   * a drain began, and the job did not. */
  if (!w || dray_workers_submit(w, job) != APR_SUCCESS)
    defer(p->deferred, job->image->index, phase, 1);
}

static void take_back_build(void *baton, void *item)
{
  pipeline_t *p = baton;
  defer(p->deferred, ((dray_job_t *)item)->image->index, DRAY_PHASE_BUILD, 1);
}

static void take_back_push(void *baton, void *item)
{
  pipeline_t *p = baton;
  defer(p->deferred, ((dray_job_t *)item)->image->index, DRAY_PHASE_PUSH, 1);
}

static void runner_drain(void *baton)
{
  pipeline_t *p = baton;
  if (p->builders)
    dray_workers_drain(p->builders, take_back_build, p);
  if (p->pushers)
    dray_workers_drain(p->pushers, take_back_push, p);
}

static void runner_cancel(void *baton, int force)
{
  pipeline_t *p = baton;
  dray_cancel_trigger(p->cancel, force);
}

/* An engine is down: what still runs there is stopped now (a hung engine
 * would hold its attempts, and their threads, for ever); the scheduler
 * counts those attempts as lost whatever they report. */
static void runner_stop_engine(void *baton, int engine)
{
  pipeline_t *p = baton;
  apr_atomic_set32(&p->engine_down[engine], 1);
  dray_cancel_trigger(p->engine_cancel[engine], 1);
}

static void run_deferred(dray_sched_t *sched, apr_array_header_t *deferred)
{
  dray_attempt_result_t ok;
  int i;
  memset(&ok, 0, sizeof(ok));
  /* Handling one may defer more: take them by index, not by a saved count. */
  for (i = 0; i < deferred->nelts; i++) {
    deferred_t d = APR_ARRAY_IDX(deferred, i, deferred_t);
    if (d.not_started)
      dray_sched_not_started(sched, d.job, d.phase);
    else
      dray_sched_finished(sched, d.job, d.phase, &ok);
  }
  deferred->nelts = 0;
}

static void drain_messages(dray_run_t *run, apr_queue_t *messages)
{
  void *item;
  while (apr_queue_trypop(messages, &item) == APR_SUCCESS) {
    msg_t *m = item;
    if (m->type == PIPE_MSG_INTERRUPT)
      run->interrupts++;
    msg_free(m);
  }
}

static void dispatch(dray_sched_t *sched, const msg_t *m)
{
  switch (m->type) {
  case PIPE_MSG_TICK:
    dray_sched_tick(sched);
    break;
  case PIPE_MSG_INTERRUPT:
    dray_sched_interrupt(sched, m->interrupt);
    break;
  case PIPE_MSG_FINISHED:
    if (m->engine_down) /* first: the attempt then counts as lost with it */
      dray_sched_engine_down(sched, m->engine, m->engine_down);
    dray_sched_finished(sched, m->job, m->phase, &m->result);
    break;
  case PIPE_MSG_NOT_STARTED:
    dray_sched_not_started(sched, m->job, m->phase);
    break;
  case PIPE_MSG_PROGRESS:
    dray_sched_progress(sched, m->job, &m->progress);
    break;
  case PIPE_MSG_PUSH_BEGAN:
    dray_sched_push_began(sched, m->job, m->when);
    break;
  case PIPE_MSG_ENGINE_DOWN:
    dray_sched_engine_down(sched, m->engine, m->engine_down);
    break;
  }
}

dray_error_t *dray_pipeline_run(dray_run_t *run, const dray_pipeline_options_t *opts,
                                const dray_sink_t *sinks, int nsinks,
                                apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  pipeline_t *p = apr_pcalloc(scratch_pool, sizeof(*p));
  unsigned n = (unsigned)run->jobs->nelts + 1;
  p->pushes = run->mode != DRAY_MODE_BUILD;
  /* With auto limits, as many threads as the limits may grow to. */
  int nbuild = run->mode == DRAY_MODE_PUSH ? 0
             : opts->sched.adapt.adapt_builders ? opts->sched.adapt.builders_max
                                                : opts->sched.builders;
  int npush = run->mode == DRAY_MODE_BUILD ? 0
            : opts->sched.adapt.adapt_pushers ? opts->sched.adapt.pushers_max
                                              : opts->sched.pushers;
  apr_thread_t *ticker = NULL, *watcher = NULL;
  dray_runner_t runner;
  dray_sched_options_t sched_opts;
  dray_sched_t *sched;
  dray_error_t *err = DRAY_NO_ERROR;
  apr_status_t st, rv;
  void *item;
  int i;

  const dray_pusher_t *first_pusher = opts->n_engines ? opts->engines[0].pusher : opts->pusher;

  if (opts->n_engines > 1) {
    /* As many threads as every engine's limits together. */
    int e, b = 0, q = 0;
    for (e = 0; e < opts->n_engines && e < opts->sched.n_engines; e++) {
      b += opts->sched.engines[e].builders > 0 ? opts->sched.engines[e].builders : nbuild;
      q += opts->sched.engines[e].pushers > 0 ? opts->sched.engines[e].pushers : npush;
    }
    nbuild = nbuild ? b : 0;
    npush = npush ? q : 0;
  }
  if (npush && !first_pusher)
    return dray_error_create(APR_EINVAL, NULL, "no push driver");
  p->opts = opts;
  p->deferred = apr_array_make(scratch_pool, 4, sizeof(deferred_t));
  run->verify = npush && first_pusher->verify && first_pusher->registry;
  if (npush && opts->slots)
    run->global_slots = dray_slots_describe(opts->slots, result_pool);
  runner.start = runner_start;
  runner.drain = runner_drain;
  runner.cancel = runner_cancel;
  runner.baton = p;
  runner.stop_engine = opts->n_engines > 1 ? runner_stop_engine : NULL;
  sched_opts = opts->sched;
  sched_opts.push_slots = npush && opts->slots;
  sched = dray_sched_create(run, &sched_opts, &runner, NULL, result_pool);
  for (i = 0; i < nsinks; i++)
    dray_sched_add_sink(sched, &sinks[i]);

  DRAY_APR_ERR(apr_queue_create(&p->messages, MESSAGE_QUEUE_SIZE, scratch_pool),
               "cannot set up the run");
  DRAY_APR_ERR(dray_pool_create_threadsafe(&p->msg_parent, scratch_pool),
               "cannot set up the run");
  DRAY_APR_ERR(dray_cancel_create(&p->cancel, scratch_pool), "cannot set up the run");
  if (opts->n_engines > 1) {
    p->engine_cancel = apr_pcalloc(scratch_pool, sizeof(*p->engine_cancel)
                                                     * (apr_size_t)opts->n_engines);
    p->engine_down = apr_pcalloc(scratch_pool, sizeof(*p->engine_down)
                                                   * (apr_size_t)opts->n_engines);
    for (i = 0; i < opts->n_engines; i++)
      DRAY_APR_ERR(dray_cancel_create(&p->engine_cancel[i], scratch_pool),
                   "cannot set up the run");
    DRAY_APR_ERR(dray_cancel_register(NULL, p->cancel, cancel_engines, p, scratch_pool),
                 "cannot set up the run");
    DRAY_APR_ERR(dray_cancel_create(&p->watch_cancel, scratch_pool), "cannot set up the run");
  }

  /* Everything that can fail is set up before the first job starts. */
  if (nbuild && (st = dray_workers_create(&p->builders, nbuild, n, run_build,
                                          build_not_started, p, scratch_pool)))
    err = dray_error_wrap_apr(st, "cannot start builder threads");
  if (!err && npush && (st = dray_workers_create(&p->pushers, npush, n, run_push,
                                                 push_not_started, p, scratch_pool)))
    err = dray_error_wrap_apr(st, "cannot start pusher threads");
  if (!err && (st = apr_thread_create(&ticker, NULL, ticker_main, p, scratch_pool)))
    err = dray_error_wrap_apr(st, "cannot start the ticker thread");
  if (!err && opts->n_engines > 1
      && (st = apr_thread_create(&watcher, NULL, engine_watch_main, p, scratch_pool)))
    err = dray_error_wrap_apr(st, "cannot start the engine watcher thread");

  if (!err) {
    /* Interrupts kept since the command began arrive first: a Ctrl+C
     * during set-up drains before anything starts. */
    if (opts->handle_interrupts) {
      dray_interrupts_attach(on_interrupt, p);
      /* Those are in the queue now: handle them before anything starts. */
      while (apr_queue_trypop(p->messages, &item) == APR_SUCCESS) {
        if (((msg_t *)item)->type == PIPE_MSG_INTERRUPT) /* ticks can wait */
          dispatch(sched, item);
        msg_free(item);
      }
    }
    dray_sched_begin(sched);
    run_deferred(sched, p->deferred);
    while (!dray_sched_done(sched)) {
      msg_t *m;
      do {
        st = apr_queue_pop(p->messages, &item);
      } while (APR_STATUS_IS_EINTR(st));
      if (st != APR_SUCCESS) {
        err = dray_error_wrap_apr(st, "the run's message queue failed");
        dray_sched_interrupt(sched, DRAY_INTERRUPT_CLOSE);
        break;
      }
      m = item;
      dispatch(sched, m);
      msg_free(m);
      run_deferred(sched, p->deferred);
    }
  }

  /* Every thread finishes what it holds (nothing, unless the loop broke). */
  dray_workers_destroy(p->builders);
  dray_workers_destroy(p->pushers);
  apr_atomic_set32(&p->ticker_stop, 1);
  if (ticker)
    apr_thread_join(&rv, ticker);
  if (watcher) {
    dray_cancel_trigger(p->watch_cancel, 1); /* a probe under way ends now */
    apr_thread_join(&rv, watcher);
  }
  /* Messages that raced the end (ticks, a late Ctrl+C) are dropped, but a
   * Ctrl+C still counts. Drained before the detach (the watcher may be
   * posting, holding the router's lock: the queue must have room), and
   * again after it; from then on main counts them (interrupts.h). */
  drain_messages(run, p->messages);
  if (opts->handle_interrupts)
    dray_interrupts_detach();
  drain_messages(run, p->messages);
  apr_queue_term(p->messages);
  dray_sched_end(sched);
  return err;
}

/* ---- the dry run ---------------------------------------------------------- */

typedef struct dry_t {
  const dray_pipeline_options_t *opts;
  FILE *out;
  apr_array_header_t *deferred;
  apr_pool_t *pool;
} dry_t;

static void dry_start(void *baton, dray_job_t *job, dray_phase_t phase)
{
  dry_t *d = baton;
  const dray_image_t *image = job->image;
  int i;

  if (phase == DRAY_PHASE_BUILD) {
    fprintf(d->out, "%-20s $ %s\n", image->name,
            dray_child_argv_string(dray_build_argv(image, d->opts->build, NULL, d->pool),
                                   d->pool));
  } else {
    const dray_push_driver_t *driver = d->opts->pusher->driver;
    for (i = 0; i < image->tags->nelts; i++) {
      const char *ref = dray_image_ref(image, APR_ARRAY_IDX(image->tags, i, const char *),
                                       d->pool);
      fprintf(d->out, "%-20s %s\n", image->name, dray_push_describe(driver, image, ref, d->pool));
    }
  }
  defer(d->deferred, image->index, phase, 0);
}

static void dry_drain(void *baton)
{
  (void)baton;
}

static void dry_cancel(void *baton, int force)
{
  (void)baton;
  (void)force;
}

dray_error_t *dray_pipeline_dry_run(dray_run_t *run, const dray_pipeline_options_t *opts,
                                    FILE *out, apr_pool_t *result_pool,
                                    apr_pool_t *scratch_pool)
{
  dry_t *d = apr_pcalloc(scratch_pool, sizeof(*d));
  dray_runner_t runner;
  dray_sched_t *sched;

  if (run->mode != DRAY_MODE_BUILD && !opts->pusher)
    return dray_error_create(APR_EINVAL, NULL, "no push driver");
  d->opts = opts;
  d->out = out;
  d->deferred = apr_array_make(scratch_pool, 4, sizeof(deferred_t));
  d->pool = scratch_pool;
  runner.start = dry_start;
  runner.drain = dry_drain;
  runner.cancel = dry_cancel;
  runner.baton = d;
  runner.stop_engine = NULL;
  sched = dray_sched_create(run, &opts->sched, &runner, NULL, result_pool);
  dray_sched_begin(sched);
  /* Each attempt succeeds at once, in the order it started. */
  while (!dray_sched_done(sched) && d->deferred->nelts)
    run_deferred(sched, d->deferred);
  dray_sched_end(sched);
  return DRAY_NO_ERROR;
}
