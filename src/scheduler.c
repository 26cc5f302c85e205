/* scheduler.c — builder pool -> push queue -> pusher pool.
 *
 * Threads:
 *   scheduler (the caller): owns dray_run_t, pops the event queue, decides.
 *   B builders: pop the build queue, run one build each, post events.
 *   P pushers:  pop the push queue, run one push each, post events.
 *   ticker: posts a tick every 100 ms (retry timers, kill escalation, view).
 *   interrupt watcher (platform layer): posts Ctrl+C events.
 * Workers never touch run state: they read only the immutable image data and
 * post malloc'ed event records, which the scheduler frees.
 */
#include "dray/scheduler.h"

#include <stdlib.h>
#include <string.h>

#include <apr_atomic.h>
#include <apr_file_info.h>
#include <apr_queue.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "dray/backoff.h"
#include "dray/cancel.h"
#include "dray/platform.h"
#include "dray/verify.h"

#define TICK_INTERVAL apr_time_from_msec(100)
#define PROGRESS_INTERVAL apr_time_from_msec(250)
#define EVENT_QUEUE_SIZE 1024

typedef enum ev_type_t {
  EV_TICK = 1,
  EV_INTERRUPT,
  EV_BUILD_STARTED,
  EV_BUILD_DONE,
  EV_PUSH_STARTED,
  EV_PUSH_PROGRESS,
  EV_PUSH_DONE,
  EV_NOT_STARTED
} ev_type_t;

typedef struct event_t {
  ev_type_t type;
  int job;                 /* index, or -1 */
  apr_time_t time;
  int kind;                /* interrupt kind; phase for EV_NOT_STARTED */
  int ok;
  int retryable;
  char *error;             /* malloc'ed strings, freed by the scheduler */
  char *reason;
  char *image_id;
  char *digests;           /* one per tag, '\n'-separated */
  int up_to_date;          /* tags skipped because the registry had them */
  int verified;            /* the registry served every pushed digest */
  apr_int64_t bytes;       /* layer bytes uploaded */
  apr_interval_time_t retry_after; /* wait at least this long before a retry */
  dray_push_progress_t progress;
} event_t;

/* Queue sentinels: never dereferenced. */
static char stop_sentinel;
static event_t tick_event = {EV_TICK, -1, 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0, 0,
                             {0, 0, 0, 0, 0, NULL}};

typedef struct sched_t {
  dray_run_t *run;
  const dray_run_options_t *opts;
  apr_queue_t *events;
  apr_queue_t *build_q;
  apr_queue_t *push_q;
  dray_cancel_t *cancel;
  volatile apr_uint32_t stop;        /* drain: workers hand queued jobs back */
  volatile apr_uint32_t ticker_stop;
  apr_array_header_t *dependents;    /* per job: apr_array_header_t * of int */
  dray_random_t rng;
  apr_time_t cancel_at;
  int escalated;
  apr_pool_t *pool;                  /* scheduler thread only */
} sched_t;

/* ---- helpers shared by the threads ------------------------------------- */

static char *xstrdup(const char *s)
{
  char *d;
  size_t n;
  if (!s)
    return NULL;
  n = strlen(s) + 1;
  d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static event_t *event_new(ev_type_t type, int job)
{
  event_t *ev = calloc(1, sizeof(*ev));
  if (!ev)
    abort(); /* out of memory */
  ev->type = type;
  ev->job = job;
  ev->time = apr_time_now();
  return ev;
}

static void event_free(event_t *ev)
{
  if (!ev || ev == &tick_event)
    return;
  free(ev->error);
  free(ev->reason);
  free(ev->image_id);
  free(ev->digests);
  free(ev);
}

static void post(sched_t *s, event_t *ev)
{
  apr_status_t st;
  do {
    st = apr_queue_push(s->events, ev);
  } while (APR_STATUS_IS_EINTR(st));
  if (st != APR_SUCCESS)
    event_free(ev); /* queue terminated: nobody listens any more */
}

static apr_status_t pop(apr_queue_t *q, void **item)
{
  apr_status_t st;
  do {
    st = apr_queue_pop(q, item);
  } while (APR_STATUS_IS_EINTR(st));
  return st;
}

static apr_status_t push_item(apr_queue_t *q, void *item)
{
  apr_status_t st;
  do {
    st = apr_queue_push(q, item);
  } while (APR_STATUS_IS_EINTR(st));
  return st;
}

static apr_status_t open_log(apr_file_t **log, const char *path, apr_pool_t *pool)
{
  return apr_file_open(log, path,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND,
                       APR_FPROT_OS_DEFAULT, pool);
}

/* A worker's next job: pops QUEUE, hands back (EV_NOT_STARTED) what arrives
 * while draining, and posts STARTED for the job it returns. NULL: stop. */
static dray_job_t *next_job(sched_t *s, apr_queue_t *queue, dray_phase_t phase)
{
  for (;;) {
    void *item;
    dray_job_t *job;
    event_t *ev;
    if (pop(queue, &item) != APR_SUCCESS || item == &stop_sentinel)
      return NULL;
    job = item;
    if (apr_atomic_read32(&s->stop)) {
      ev = event_new(EV_NOT_STARTED, job->image->index);
      ev->kind = phase;
      post(s, ev);
      continue;
    }
    post(s, event_new(phase == DRAY_PHASE_BUILD ? EV_BUILD_STARTED : EV_PUSH_STARTED,
                      job->image->index));
    return job;
  }
}

/* ---- builders ----------------------------------------------------------- */

/* One build; fills EV (EV_BUILD_DONE) with what the scheduler needs. */
static dray_error_t *run_build(sched_t *s, dray_job_t *job, apr_file_t *log, event_t *ev,
                               apr_pool_t *pool)
{
  dray_build_result_t res;
  const char *iid = apr_pstrcat(pool, job->log_path, ".iid", NULL);
  dray_error_t *err = dray_build_image(&res, job->image, &s->opts->build, log, iid, s->cancel,
                                       pool, pool);
  ev->reason = xstrdup(err ? res.reason : NULL);
  ev->image_id = xstrdup(res.image_id);
  return err;
}

/* ---- pushers ------------------------------------------------------------ */

typedef struct progress_baton_t {
  sched_t *s;
  int job;
  apr_time_t last;
  apr_int64_t bytes;       /* last bytes_done of the current tag's push */
} progress_baton_t;

static void on_push_progress(void *baton, const dray_push_progress_t *p)
{
  progress_baton_t *pb = baton;
  apr_time_t now = apr_time_now();
  event_t *ev;

  pb->bytes = p->bytes_done;
  /* Rate-limit: the scheduler needs a picture, not every byte. */
  if (now - pb->last < PROGRESS_INTERVAL)
    return;
  pb->last = now;
  ev = event_new(EV_PUSH_PROGRESS, pb->job);
  ev->progress = *p; /* status is a static word: safe to keep */
  post(pb->s, ev);
}

typedef struct push_tally_t {
  int up_to_date;                 /* tags the registry already had */
  int verified;                   /* tags whose digest the registry confirmed */
  apr_int64_t bytes;
} push_tally_t;

/* One tag: skip it if the registry has it (--skip-existing), else push it
 * and check that the registry serves what the push reported. */
static dray_error_t *push_one_tag(sched_t *s, const char *ref, apr_file_t *log,
                                  progress_baton_t *pb, dray_push_result_t *res,
                                  push_tally_t *tally, apr_pool_t *pool)
{
  const dray_run_options_t *o = s->opts;
  const dray_push_driver_t *driver = o->push_driver;
  dray_push_request_t req;
  dray_error_t *err;

  memset(res, 0, sizeof(*res));
  if (o->skip_existing) {
    int up_to_date = 0;
    const char *digest = NULL;
    DRAY_ERR(dray_verify_up_to_date(&up_to_date, &digest, o->registry, o->engine, ref,
                                    s->cancel, pool, pool));
    if (up_to_date) {
      if (log)
        apr_file_printf(log, "dray: %s is up to date in the registry (%s)\n", ref, digest);
      res->digest = digest;
      tally->up_to_date++;
      return DRAY_NO_ERROR;
    }
  }
  memset(&req, 0, sizeof(req));
  req.reference = ref;
  req.log = log;
  req.cancel = s->cancel;
  req.progress = on_push_progress;
  req.progress_baton = pb;
  req.stall_timeout = o->stall_timeout;
  pb->bytes = 0;
  err = driver->push(driver, &req, res, pool, pool);
  tally->bytes += pb->bytes;
  if (err || !o->verify || !o->registry)
    return err;
  err = dray_verify_pushed(o->registry, ref, res->digest, s->cancel, &res->retry_after, pool);
  if (err) {
    res->reason = "verify";
    res->retryable = 1;
    return err;
  }
  if (log)
    apr_file_printf(log, "dray: verified %s: the registry serves %s\n", ref, res->digest);
  tally->verified++;
  return DRAY_NO_ERROR;
}

/* One image's push, tag after tag; fills EV (EV_PUSH_DONE). */
static dray_error_t *run_push(sched_t *s, dray_job_t *job, apr_file_t *log, event_t *ev,
                              apr_pool_t *pool)
{
  const dray_image_t *image = job->image;
  dray_push_result_t res;
  dray_error_t *err = NULL;
  const char *digests = NULL;
  progress_baton_t pb = {s, image->index, 0, 0};
  push_tally_t tally;
  int i;

  memset(&res, 0, sizeof(res));
  memset(&tally, 0, sizeof(tally));
  /* Every tag is one push; after the first, the layers already exist. */
  for (i = 0; !err && i < image->tags->nelts; i++) {
    const char *ref = dray_image_ref(image, APR_ARRAY_IDX(image->tags, i, const char *), pool);
    err = push_one_tag(s, ref, log, &pb, &res, &tally, pool);
    if (!err)
      digests = digests ? apr_pstrcat(pool, digests, "\n", res.digest, NULL) : res.digest;
  }
  ev->reason = xstrdup(err ? res.reason : NULL);
  ev->retryable = res.retryable;
  ev->retry_after = res.retry_after;
  ev->digests = xstrdup(digests);
  ev->up_to_date = tally.up_to_date;
  ev->verified = !err && tally.verified == image->tags->nelts - tally.up_to_date;
  ev->bytes = tally.bytes;
  return err;
}

/* ---- the worker threads ------------------------------------------------- */

/* What a pool's threads share: their queue, their phase, the work of a job. */
typedef struct worker_t {
  sched_t *s;
  apr_queue_t *queue;
  dray_phase_t phase;
  ev_type_t done;
  dray_error_t *(*run)(sched_t *s, dray_job_t *job, apr_file_t *log, event_t *ev,
                       apr_pool_t *pool);
} worker_t;

static void *APR_THREAD_FUNC worker_main(apr_thread_t *thd, void *data)
{
  worker_t *w = data;
  sched_t *s = w->s;
  apr_pool_t *pool, *iterpool;
  dray_job_t *job;

  apr_pool_create(&pool, NULL); /* own root pool: pools are not shared across threads */
  apr_pool_create(&iterpool, pool);
  while ((job = next_job(s, w->queue, w->phase))) {
    event_t *ev = event_new(w->done, job->image->index);
    apr_file_t *log;
    dray_error_t *err;
    apr_status_t st;

    apr_pool_clear(iterpool);
    st = open_log(&log, job->log_path, iterpool);
    if (st != APR_SUCCESS) {
      err = dray_error_wrap_apr(st, "%s: cannot open log %s", job->image->name, job->log_path);
      ev->reason = xstrdup("log");
    } else {
      err = w->run(s, job, log, ev, iterpool);
      if (err)
        apr_file_printf(log, "dray: %s\n", dray_error_format(err, iterpool));
      apr_file_close(log);
    }
    ev->ok = err == NULL;
    if (err) {
      if (!ev->reason)
        ev->reason = xstrdup("exit");
      ev->error = xstrdup(dray_error_format(err, iterpool));
    }
    dray_error_clear(err);
    ev->time = apr_time_now(); /* made before the job ran: stamp its end now */
    post(s, ev);
  }
  apr_pool_destroy(pool);
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)thd;
  return NULL;
}

/* ---- ticker and interrupts --------------------------------------------- */

static void *APR_THREAD_FUNC ticker_main(apr_thread_t *thd, void *data)
{
  sched_t *s = data;
  while (!apr_atomic_read32(&s->ticker_stop)) {
    apr_sleep(TICK_INTERVAL);
    /* A full queue means the scheduler is busy anyway: drop the tick. */
    apr_queue_trypush(s->events, &tick_event);
  }
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)thd;
  return NULL;
}

static void on_interrupt(void *baton, dray_interrupt_kind_t kind)
{
  sched_t *s = baton;
  event_t *ev = event_new(EV_INTERRUPT, -1);
  ev->kind = (int)kind;
  post(s, ev);
}

/* ---- the scheduler's decisions ----------------------------------------- */

static dray_job_t *job_at(sched_t *s, int i)
{
  return APR_ARRAY_IDX(s->run->jobs, i, dray_job_t *);
}

static void view_event(sched_t *s, dray_job_t *job, const char *what, const char *detail)
{
  if (s->opts->view)
    dray_view_event(s->opts->view, s->run, job, what, detail);
}

static void add_attempt(sched_t *s, dray_job_t *job, dray_phase_t phase, int number,
                        apr_time_t end, const char *result, const char *error)
{
  dray_attempt_t *a = &APR_ARRAY_PUSH(job->attempts, dray_attempt_t);
  a->phase = phase;
  a->number = number;
  a->start = job->phase_start;
  a->end = end;
  a->result = apr_pstrdup(s->pool, result);
  a->error = error ? apr_pstrdup(s->pool, error) : NULL;
}

static void enqueue_build(sched_t *s, dray_job_t *job)
{
  job->state = DRAY_JOB_QUEUED;
  push_item(s->build_q, job);
}

static void enqueue_push(sched_t *s, dray_job_t *job)
{
  job->state = DRAY_JOB_BUILT;
  push_item(s->push_q, job);
}

/* JOB failed for good: everything built FROM it, directly or not, is skipped. */
static void skip_dependents(sched_t *s, dray_job_t *job)
{
  apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, job->image->index, apr_array_header_t *);
  int i;
  for (i = 0; i < deps->nelts; i++) {
    dray_job_t *d = job_at(s, APR_ARRAY_IDX(deps, i, int));
    if (d->state != DRAY_JOB_WAITING)
      continue;
    d->state = DRAY_JOB_SKIPPED;
    d->reason = "dependency";
    d->error = apr_psprintf(s->pool, "not built: %s, which it is built FROM, failed",
                            job->image->name);
    view_event(s, d, "skipped", d->error);
    skip_dependents(s, d);
  }
}

static void release_dependents(sched_t *s, dray_job_t *job)
{
  apr_array_header_t *deps = APR_ARRAY_IDX(s->dependents, job->image->index, apr_array_header_t *);
  int i;
  for (i = 0; i < deps->nelts; i++) {
    dray_job_t *d = job_at(s, APR_ARRAY_IDX(deps, i, int));
    if (--d->deps_pending == 0 && d->state == DRAY_JOB_WAITING && !s->run->draining)
      enqueue_build(s, d);
  }
}

static void interrupt_job(sched_t *s, dray_job_t *job, const char *why)
{
  job->state = DRAY_JOB_INTERRUPTED;
  job->reason = "interrupted";
  if (!job->error)
    job->error = why;
  view_event(s, job, "interrupted", why);
}

/* First Ctrl+C: nothing new starts; what runs finishes. */
static void start_drain(sched_t *s)
{
  int i;
  void *item;

  if (s->run->draining)
    return;
  s->run->draining = 1;
  apr_atomic_set32(&s->stop, 1);
  /* Take back what is still queued; a worker that got there first hands
   * its job back with EV_NOT_STARTED. */
  while (apr_queue_trypop(s->build_q, &item) == APR_SUCCESS)
    if (item != &stop_sentinel)
      interrupt_job(s, item, "not built: interrupted");
  while (apr_queue_trypop(s->push_q, &item) == APR_SUCCESS)
    if (item != &stop_sentinel)
      interrupt_job(s, item, "built, not pushed: interrupted");
  for (i = 0; i < s->run->jobs->nelts; i++) {
    dray_job_t *job = job_at(s, i);
    if (job->state == DRAY_JOB_WAITING || job->state == DRAY_JOB_BUILD_RETRY)
      interrupt_job(s, job, "not built: interrupted");
    else if (job->state == DRAY_JOB_PUSH_RETRY)
      interrupt_job(s, job, "built, not pushed: interrupted");
  }
}

static void start_cancel(sched_t *s, int force)
{
  start_drain(s);
  if (!s->run->cancelling) {
    s->run->cancelling = 1;
    s->cancel_at = apr_time_now();
  }
  if (force && !s->escalated)
    s->escalated = 1;
  dray_cancel_trigger(s->cancel, force);
}

static void handle_interrupt(sched_t *s, int kind)
{
  s->run->interrupts++;
  if (kind == DRAY_INTERRUPT_CLOSE || s->run->interrupts >= 3) {
    view_event(s, NULL, "cancel", "stopping every running build and push now");
    start_cancel(s, 1);
  } else if (kind == DRAY_INTERRUPT_TERM || s->run->interrupts == 2) {
    view_event(s, NULL, "cancel",
               "cancelling: running builds and pushes are being stopped");
    start_cancel(s, 0);
  } else {
    view_event(s, NULL, "drain",
               "interrupted: running builds and pushes finish, nothing new starts "
               "(Ctrl+C again to cancel them)");
    start_drain(s);
  }
}

static apr_interval_time_t backoff(sched_t *s, int attempt)
{
  return dray_backoff_delay(attempt, s->opts->retry_base, s->opts->retry_max,
                            dray_random_unit(&s->rng));
}

static void handle_build_done(sched_t *s, dray_job_t *job, event_t *ev)
{
  s->run->running_builds--;
  job->build_end = ev->time;
  job->build_time += ev->time - job->phase_start;
  add_attempt(s, job, DRAY_PHASE_BUILD, job->build_attempts, ev->time,
              ev->ok ? "ok" : ev->reason, ev->error);
  if (ev->ok) {
    job->image_id = ev->image_id ? apr_pstrdup(s->pool, ev->image_id) : NULL;
    if (s->run->mode == DRAY_MODE_BUILD) {
      job->state = DRAY_JOB_DONE;
      view_event(s, job, "built", job->image_id);
    } else if (s->run->draining) {
      view_event(s, job, "built", job->image_id);
      interrupt_job(s, job, "built, not pushed: interrupted");
    } else {
      view_event(s, job, "built", job->image_id);
      enqueue_push(s, job);
    }
    release_dependents(s, job);
    return;
  }
  if (strcmp(ev->reason, "cancelled") == 0) {
    job->error = apr_pstrdup(s->pool, ev->error);
    interrupt_job(s, job, job->error);
  } else if (job->build_attempts <= s->opts->build_retries && !s->run->draining) {
    apr_interval_time_t d = backoff(s, job->build_attempts);
    job->state = DRAY_JOB_BUILD_RETRY;
    job->retry_at = ev->time + d;
    view_event(s, job, "build-retry",
               apr_psprintf(s->pool, "%s; retrying in %.1fs", ev->error,
                            (double)d / APR_USEC_PER_SEC));
    return;
  } else {
    job->state = DRAY_JOB_FAILED;
    job->reason = apr_pstrdup(s->pool, ev->reason);
    job->error = apr_pstrdup(s->pool, ev->error);
    view_event(s, job, "build-failed", job->error);
  }
  skip_dependents(s, job);
}

static void handle_push_done(sched_t *s, dray_job_t *job, event_t *ev)
{
  s->run->running_pushes--;
  job->push_end = ev->time;
  job->push_time += ev->time - job->phase_start;
  add_attempt(s, job, DRAY_PHASE_PUSH, job->push_attempts, ev->time,
              ev->ok ? "ok" : ev->reason, ev->error);
  if (ev->ok) {
    char *state, *tok;
    char *all = apr_pstrdup(s->pool, ev->digests ? ev->digests : "");
    for (tok = apr_strtok(all, "\n", &state); tok; tok = apr_strtok(NULL, "\n", &state))
      APR_ARRAY_PUSH(job->tag_digests, const char *) = tok;
    job->digest = job->tag_digests->nelts ? APR_ARRAY_IDX(job->tag_digests, 0, const char *) : NULL;
    job->up_to_date = ev->up_to_date == job->image->tags->nelts;
    job->verified = ev->verified;
    job->bytes_pushed = ev->bytes;
    s->run->bytes_pushed += ev->bytes;
    job->state = DRAY_JOB_DONE;
    job->error = NULL;
    job->reason = NULL;
    view_event(s, job, job->up_to_date ? "up-to-date" : "pushed", job->digest);
    return;
  }
  job->error = apr_pstrdup(s->pool, ev->error);
  job->reason = apr_pstrdup(s->pool, ev->reason);
  if (strcmp(ev->reason, "cancelled") == 0) {
    interrupt_job(s, job, job->error);
  } else if (ev->retryable && job->push_attempts <= s->opts->push_retries &&
             !s->run->draining) {
    apr_interval_time_t d = backoff(s, job->push_attempts);
    if (ev->retry_after > d)
      d = ev->retry_after; /* the driver or the registry said how long to wait */
    job->state = DRAY_JOB_PUSH_RETRY;
    job->retry_at = ev->time + d;
    view_event(s, job, "push-retry",
               apr_psprintf(s->pool, "%s; retrying in %.1fs", ev->error,
                            (double)d / APR_USEC_PER_SEC));
  } else {
    job->state = DRAY_JOB_FAILED;
    view_event(s, job, "push-failed", job->error);
  }
}

static void handle_tick(sched_t *s)
{
  apr_time_t now = apr_time_now();
  int i;

  if (!s->run->draining) {
    for (i = 0; i < s->run->jobs->nelts; i++) {
      dray_job_t *job = job_at(s, i);
      if (job->state == DRAY_JOB_BUILD_RETRY && job->retry_at <= now)
        enqueue_build(s, job);
      else if (job->state == DRAY_JOB_PUSH_RETRY && job->retry_at <= now)
        enqueue_push(s, job);
    }
  }
  if (s->run->cancelling && !s->escalated && now - s->cancel_at >= s->opts->kill_grace) {
    view_event(s, NULL, "cancel", "grace period over: killing what still runs");
    start_cancel(s, 1);
  }
  if (s->opts->view)
    dray_view_tick(s->opts->view, s->run);
}

static void handle_event(sched_t *s, event_t *ev)
{
  dray_job_t *job = ev->job >= 0 ? job_at(s, ev->job) : NULL;
  dray_run_t *run = s->run;

  switch (ev->type) {
  case EV_TICK:
    handle_tick(s);
    break;
  case EV_INTERRUPT:
    handle_interrupt(s, ev->kind);
    break;
  case EV_BUILD_STARTED:
    job->state = DRAY_JOB_BUILDING;
    job->build_attempts++;
    job->phase_start = ev->time;
    if (!job->build_start)
      job->build_start = ev->time;
    if (++run->running_builds > run->max_running_builds)
      run->max_running_builds = run->running_builds;
    view_event(s, job, "build-started", NULL);
    break;
  case EV_BUILD_DONE:
    handle_build_done(s, job, ev);
    break;
  case EV_PUSH_STARTED:
    job->state = DRAY_JOB_PUSHING;
    job->push_attempts++;
    job->phase_start = ev->time;
    memset(&job->progress, 0, sizeof(job->progress));
    job->progress_at = ev->time;
    if (!job->push_start)
      job->push_start = ev->time;
    if (!run->first_push_start)
      run->first_push_start = ev->time;
    if (++run->running_pushes > run->max_running_pushes)
      run->max_running_pushes = run->running_pushes;
    view_event(s, job, "push-started", NULL);
    break;
  case EV_PUSH_PROGRESS:
    if (job->state == DRAY_JOB_PUSHING) {
      if (ev->progress.bytes_done != job->progress.bytes_done ||
          ev->progress.layers_done != job->progress.layers_done)
        job->progress_at = ev->time;
      job->progress = ev->progress;
    }
    break;
  case EV_PUSH_DONE:
    handle_push_done(s, job, ev);
    break;
  case EV_NOT_STARTED:
    interrupt_job(s, job, ev->kind == DRAY_PHASE_BUILD ? "not built: interrupted"
                                                       : "built, not pushed: interrupted");
    break;
  }
}

static int run_finished(const dray_run_t *run)
{
  int i;
  if (run->running_builds || run->running_pushes)
    return 0;
  for (i = 0; i < run->jobs->nelts; i++)
    if (!DRAY_JOB_IS_FINAL(APR_ARRAY_IDX(run->jobs, i, dray_job_t *)->state))
      return 0;
  return 1;
}

/* ---- set-up ------------------------------------------------------------- */

static const char *log_name(const char *name, apr_pool_t *pool)
{
  /* '/' becomes '+', which no image name can hold: names stay distinct. */
  char *n = apr_pstrdup(pool, name), *p;
  for (p = n; *p; p++)
    if (*p == '/' || *p == '\\' || *p == ':')
      *p = '+';
  return apr_pstrcat(pool, n, ".log", NULL);
}

static dray_error_t *setup_run(sched_t *s, const dray_plan_t *plan,
                               const dray_run_options_t *opts, apr_pool_t *result_pool)
{
  dray_run_t *run = apr_pcalloc(result_pool, sizeof(*run));
  int n = plan->images->nelts, i, j;
  apr_status_t st;

  run->mode = opts->mode;
  run->plan = plan;
  run->builders = opts->builders;
  run->pushers = opts->pushers;
  run->verify = opts->verify && opts->registry;
  run->jobs = apr_array_make(result_pool, n, sizeof(dray_job_t *));
  s->run = run;
  s->opts = opts;
  s->pool = result_pool;
  s->dependents = apr_array_make(result_pool, n, sizeof(apr_array_header_t *));

  st = apr_dir_make_recursive(opts->log_dir, APR_FPROT_OS_DEFAULT, result_pool);
  if (st != APR_SUCCESS)
    return dray_error_wrap_apr(st, "cannot create log folder %s", opts->log_dir);

  for (i = 0; i < n; i++) {
    const dray_image_t *image = APR_ARRAY_IDX(plan->images, i, const dray_image_t *);
    dray_job_t *job = apr_pcalloc(result_pool, sizeof(*job));
    apr_file_t *f;
    job->image = image;
    job->attempts = apr_array_make(result_pool, 2, sizeof(dray_attempt_t));
    job->tag_digests = apr_array_make(result_pool, 1, sizeof(const char *));
    st = apr_filepath_merge((char **)&job->log_path, opts->log_dir,
                            log_name(image->name, result_pool), 0, result_pool);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "%s: bad log path", image->name);
    /* Start each run with an empty log: what it holds is this run's. */
    st = apr_file_open(&f, job->log_path,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                       APR_FPROT_OS_DEFAULT, result_pool);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "%s: cannot create log %s", image->name, job->log_path);
    apr_file_close(f);
    APR_ARRAY_PUSH(run->jobs, dray_job_t *) = job;
    APR_ARRAY_PUSH(s->dependents, apr_array_header_t *) =
        apr_array_make(result_pool, 0, sizeof(int));
  }
  if (opts->mode != DRAY_MODE_PUSH) {
    for (i = 0; i < n; i++) {
      const dray_image_t *image = APR_ARRAY_IDX(plan->images, i, const dray_image_t *);
      for (j = 0; image->deps && j < image->deps->nelts; j++) {
        int d = APR_ARRAY_IDX(image->deps, j, int);
        APR_ARRAY_PUSH(APR_ARRAY_IDX(s->dependents, d, apr_array_header_t *), int) = i;
        job_at(s, i)->deps_pending++;
      }
    }
  }
  return DRAY_NO_ERROR;
}

dray_error_t *dray_scheduler_run(dray_run_t **run_p,
                                 const dray_plan_t *plan,
                                 const dray_run_options_t *opts,
                                 apr_pool_t *result_pool,
                                 apr_pool_t *scratch_pool)
{
  sched_t *s = apr_pcalloc(scratch_pool, sizeof(*s));
  apr_thread_t **builders, **pushers, *ticker = NULL;
  worker_t build_pool, push_pool;
  int nbuild = opts->mode == DRAY_MODE_PUSH ? 0 : opts->builders;
  int npush = opts->mode == DRAY_MODE_BUILD ? 0 : opts->pushers;
  int n = plan->images->nelts, i, interrupts_on = 0;
  apr_status_t st, rv;
  dray_error_t *err = NULL;

  if (opts->mode != DRAY_MODE_BUILD && !opts->push_driver)
    return dray_error_create(APR_EINVAL, NULL, "no push driver");
  DRAY_ERR(setup_run(s, plan, opts, result_pool));
  *run_p = s->run;
  dray_random_seed(&s->rng, (apr_uint64_t)apr_time_now() ^ ((apr_uint64_t)(apr_uintptr_t)s << 16));

  if ((st = apr_queue_create(&s->events, EVENT_QUEUE_SIZE, scratch_pool)) ||
      (st = apr_queue_create(&s->build_q, (unsigned)(n + nbuild + 1), scratch_pool)) ||
      (st = apr_queue_create(&s->push_q, (unsigned)(n + npush + 1), scratch_pool)) ||
      (st = dray_cancel_create(&s->cancel, scratch_pool)))
    return dray_error_wrap_apr(st, "cannot set up the run");

  build_pool.s = push_pool.s = s;
  build_pool.queue = s->build_q;
  build_pool.phase = DRAY_PHASE_BUILD;
  build_pool.done = EV_BUILD_DONE;
  build_pool.run = run_build;
  push_pool.queue = s->push_q;
  push_pool.phase = DRAY_PHASE_PUSH;
  push_pool.done = EV_PUSH_DONE;
  push_pool.run = run_push;
  builders = apr_pcalloc(scratch_pool, sizeof(*builders) * (apr_size_t)(nbuild + 1));
  pushers = apr_pcalloc(scratch_pool, sizeof(*pushers) * (apr_size_t)(npush + 1));

  if (opts->handle_interrupts) {
    st = dray_platform_interrupts_start(on_interrupt, s, scratch_pool);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "cannot install the Ctrl+C handler");
    interrupts_on = 1;
  }

  s->run->start = apr_time_now();
  /* Seed the queues before the workers start: order is plan order. */
  for (i = 0; i < n; i++) {
    dray_job_t *job = job_at(s, i);
    if (opts->mode == DRAY_MODE_PUSH)
      enqueue_push(s, job);
    else if (job->deps_pending == 0)
      enqueue_build(s, job);
  }

  for (i = 0; i < nbuild && !err; i++)
    if ((st = apr_thread_create(&builders[i], NULL, worker_main, &build_pool, scratch_pool)))
      err = dray_error_wrap_apr(st, "cannot start builder thread");
  for (i = 0; i < npush && !err; i++)
    if ((st = apr_thread_create(&pushers[i], NULL, worker_main, &push_pool, scratch_pool)))
      err = dray_error_wrap_apr(st, "cannot start pusher thread");
  if (!err && (st = apr_thread_create(&ticker, NULL, ticker_main, s, scratch_pool)))
    err = dray_error_wrap_apr(st, "cannot start ticker thread");

  if (err) {
    /* Let whatever started finish what it holds, then stop. */
    start_cancel(s, 1);
  }

  while (!run_finished(s->run)) {
    void *item;
    if (pop(s->events, &item) != APR_SUCCESS)
      break;
    handle_event(s, item);
    event_free(item);
  }
  s->run->end = apr_time_now();

  /* One sentinel per worker: a graceful end, nothing left behind. */
  for (i = 0; i < nbuild; i++)
    if (builders[i])
      push_item(s->build_q, &stop_sentinel);
  for (i = 0; i < npush; i++)
    if (pushers[i])
      push_item(s->push_q, &stop_sentinel);
  for (i = 0; i < nbuild; i++)
    if (builders[i])
      apr_thread_join(&rv, builders[i]);
  for (i = 0; i < npush; i++)
    if (pushers[i])
      apr_thread_join(&rv, pushers[i]);
  apr_atomic_set32(&s->ticker_stop, 1);
  if (ticker)
    apr_thread_join(&rv, ticker);
  /* Events that raced the end (ticks, a late Ctrl+C) are dropped; then the
   * queue is closed so the interrupt watcher can never block on it. */
  {
    void *item;
    while (apr_queue_trypop(s->events, &item) == APR_SUCCESS) {
      if (((event_t *)item)->type == EV_INTERRUPT)
        s->run->interrupts++;
      event_free(item);
    }
  }
  apr_queue_term(s->events);
  if (interrupts_on)
    dray_platform_interrupts_stop();
  if (opts->view)
    dray_view_finish(opts->view, s->run);
  return err;
}

int dray_run_exit_code(const dray_run_t *run)
{
  dray_run_counts_t c;
  if (run->interrupts > 0)
    return 130;
  dray_run_count(&c, run);
  return (c.failed || c.skipped || c.interrupted) ? 1 : 0;
}
