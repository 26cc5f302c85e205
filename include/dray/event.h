/* event.h — what happened in a run, as a type, and who is told.
 *
 * The scheduler tells each sink (the live view, the plain lines, the JSON
 * event stream) a typed event; a sink turns it into words. After ninja's
 * Status: one function per kind of news, here an enum and a struct, so a
 * sink never parses a message to learn what happened.
 */
#ifndef DRAY_EVENT_H
#define DRAY_EVENT_H

#include <apr_pools.h>
#include <apr_time.h>

#include "dray/outcome.h"
#include "dray/run.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dray_event_kind_t {
  DRAY_EVENT_BUILD_STARTED = 0,
  DRAY_EVENT_BUILT,
  DRAY_EVENT_BUILD_RETRY,
  DRAY_EVENT_BUILD_FAILED,
  DRAY_EVENT_PUSH_STARTED,
  DRAY_EVENT_PUSHED,
  DRAY_EVENT_UP_TO_DATE,       /* --skip-existing: the registry had every tag */
  DRAY_EVENT_PUSH_RETRY,
  DRAY_EVENT_PUSH_FAILED,
  DRAY_EVENT_SKIPPED,          /* an image it is built FROM failed */
  DRAY_EVENT_INTERRUPTED,      /* a job stopped or never started because of Ctrl+C */
  DRAY_EVENT_DRAIN,            /* run-level: first Ctrl+C */
  DRAY_EVENT_CANCEL,           /* run-level: second Ctrl+C, SIGTERM, SIGHUP */
  DRAY_EVENT_KILL,             /* run-level: grace period over, or a third Ctrl+C */
  DRAY_EVENT_ENGINE_DOWN,      /* run-level: an engine stopped answering (error says which) */
  DRAY_EVENT_COUNT
} dray_event_kind_t;

/* What the JSON event stream calls the class of an event. */
typedef enum dray_event_class_t {
  DRAY_EVENT_CLASS_STARTED = 0,
  DRAY_EVENT_CLASS_FINISHED,
  DRAY_EVENT_CLASS_RETRY,
  DRAY_EVENT_CLASS_RUN
} dray_event_class_t;

typedef struct dray_event_t {
  dray_event_kind_t kind;
  const dray_job_t *job;          /* NULL for run-level events */
  apr_time_t time;
  dray_outcome_t outcome;         /* failures, retries, skips, interrupts */
  const char *error;              /* the message for a failure or retry, or NULL */
  apr_interval_time_t retry_in;   /* retries: the wait before the next attempt */
  int engine;                     /* the engine it happened on (index in run->engines) */
} dray_event_t;

/* The word for KIND ("build-started", "pushed", "push-retry", ...): static. */
const char *dray_event_word(dray_event_kind_t kind);

/* Its class, and the class's word ("started", "finished", "retry", "run"). */
dray_event_class_t dray_event_class(dray_event_kind_t kind);
const char *dray_event_class_word(dray_event_class_t cls);

/* The words that go with EV in a view or an event stream: the image id, the
 * digest, the error, "...; retrying in 2.0s", what a Ctrl+C does; or NULL. */
const char *dray_event_detail(const dray_event_t *ev, apr_pool_t *result_pool);

/* Whether KIND is news even in quiet mode (failures, retries, interrupts). */
int dray_event_is_problem(dray_event_kind_t kind);

/* Someone the scheduler tells. Every function is called on the scheduler's
 * thread; any may be NULL. */
typedef struct dray_sink_t {
  void (*event)(void *baton, const dray_run_t *run, const dray_event_t *event);
  /* A push's progress changed (at most a few times a second per push). */
  void (*progress)(void *baton, const dray_run_t *run, const dray_job_t *job);
  /* Every scheduler tick (about 10 a second): redraw if due. */
  void (*tick)(void *baton, const dray_run_t *run, apr_time_t now);
  /* The run ended; nothing follows. */
  void (*finish)(void *baton, const dray_run_t *run);
  void *baton;
} dray_sink_t;

#ifdef __cplusplus
}
#endif
#endif /* DRAY_EVENT_H */
