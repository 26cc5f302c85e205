/* events.c — the JSON event stream. */
#include "dray/events.h"
#include "dray/pools.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define PROGRESS_EVENT_INTERVAL apr_time_from_sec(1)

struct dray_events_t {
  FILE *out;
  apr_time_t *last_progress;      /* per job */
  int njobs;
  apr_pool_t *pool;               /* cleared per event */
};

static double seconds(apr_interval_time_t t)
{
  return (double)t / APR_USEC_PER_SEC;
}

static void emit(dray_events_t *e, json_t *o, apr_time_t when)
{
  char *text;
  json_object_set_new(o, "time", json_real(seconds(when)));
  text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (text) {
    fprintf(e->out, "%s\n", text);
    fflush(e->out);
    free(text);
  }
}

static void on_event(void *baton, const dray_run_t *run, const dray_event_t *ev)
{
  dray_events_t *e = baton;
  const dray_job_t *job = ev->job;
  json_t *o = json_object();
  const char *detail;

  apr_pool_clear(e->pool);
  detail = dray_event_detail(ev, e->pool);
  json_object_set_new(o, "event", json_string(dray_event_word(ev->kind)));
  json_object_set_new(o, "kind", json_string(dray_event_class_word(dray_event_class(ev->kind))));
  if (job) {
    json_object_set_new(o, "image", json_string(job->image->name));
    json_object_set_new(o, "status", json_string(dray_job_state_word(run, job)));
    json_object_set_new(o, "build_attempts", json_integer(job->build_attempts));
    json_object_set_new(o, "push_attempts", json_integer(job->push_attempts));
    if (ev->outcome != DRAY_OUTCOME_OK)
      json_object_set_new(o, "reason", json_string(dray_outcome_word(ev->outcome)));
    if (job->state == DRAY_JOB_DONE && dray_job_digest(job))
      json_object_set_new(o, "digest", json_string(dray_job_digest(job)));
  }
  if (run->engines->nelts > 1 && (job || ev->kind == DRAY_EVENT_ENGINE_DOWN))
    json_object_set_new(o, "engine", json_string(dray_run_engine_name(run, ev->engine)));
  if (detail)
    json_object_set_new(o, "detail", json_string(detail));
  emit(e, o, ev->time);
}

static void on_progress(void *baton, const dray_run_t *run, const dray_job_t *job)
{
  dray_events_t *e = baton;
  const dray_push_progress_t *p = &job->progress;
  apr_time_t now = apr_time_now();
  int i = job->image->index;
  json_t *o;
  (void)run;

  if (i < 0 || i >= e->njobs || now - e->last_progress[i] < PROGRESS_EVENT_INTERVAL)
    return;
  e->last_progress[i] = now;
  o = json_object();
  json_object_set_new(o, "event", json_string("push-progress"));
  json_object_set_new(o, "kind", json_string("progress"));
  json_object_set_new(o, "image", json_string(job->image->name));
  json_object_set_new(o, "bytes_done", json_integer(p->bytes_done));
  json_object_set_new(o, "bytes_total", json_integer(p->bytes_total));
  json_object_set_new(o, "layers_done", json_integer(p->layers_done));
  json_object_set_new(o, "layers_total", json_integer(p->layers_total));
  json_object_set_new(o, "waiting", json_boolean(p->waiting));
  json_object_set_new(o, "seconds", json_real(seconds(now - job->phase_start)));
  emit(e, o, now);
}

dray_events_t *dray_events_create(FILE *out, int njobs, apr_pool_t *pool)
{
  dray_events_t *e = apr_pcalloc(pool, sizeof(*e));
  e->out = out;
  e->njobs = njobs;
  e->last_progress = apr_pcalloc(pool, sizeof(apr_time_t) * (apr_size_t)(njobs + 1));
  e->pool = dray_pool_create_sub(pool);
  return e;
}

dray_sink_t dray_events_sink(dray_events_t *e)
{
  dray_sink_t sink;
  memset(&sink, 0, sizeof(sink));
  sink.event = on_event;
  sink.progress = on_progress;
  sink.baton = e;
  return sink;
}
