/* view.c — live terminal block or plain event lines.
 *
 * Live mode keeps a block of lines at the bottom of the terminal and redraws
 * it in place with ANSI escapes (cursor up, erase); lasting messages (a push
 * finished, a failure) are printed above it, so the scrollback keeps them.
 */
#include "dray/view.h"
#include "dray/text.h"
#include "dray/pools.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_time.h>

#include "dray/color.h"
#include "dray/platform.h"

#define REDRAW_INTERVAL apr_time_from_msec(100)
#define MAX_JOB_LINES 16
#define PLAIN_STATUS_INTERVAL apr_time_from_sec(30)  /* a sign of life in CI logs */
#define SHOW_STALL_AFTER apr_time_from_sec(10)

struct dray_view_t {
  FILE *out;
  dray_view_mode_t mode;
  int verbose;
  int color;            /* color.h's rule for OUT */
  int drawn_lines;      /* lines of the live block now on screen */
  apr_time_t last_draw;
  apr_time_t last_status; /* plain mode: last periodic status line */
  apr_pool_t *pool;     /* cleared before each redraw */
  apr_pool_t *long_pool;
};

dray_view_mode_t dray_view_mode_from_word(const char *word)
{
  if (!word)
    return DRAY_VIEW_AUTO;
  if (strcmp(word, "live") == 0)
    return DRAY_VIEW_LIVE;
  if (strcmp(word, "plain") == 0)
    return DRAY_VIEW_PLAIN;
  if (strcmp(word, "quiet") == 0)
    return DRAY_VIEW_QUIET;
  return DRAY_VIEW_AUTO;
}

dray_view_t *dray_view_create(FILE *stream, dray_view_mode_t mode, int verbose,
                              apr_pool_t *pool)
{
  dray_view_t *v = apr_pcalloc(pool, sizeof(*v));
  v->out = stream;
  if (mode == DRAY_VIEW_AUTO)
    mode = dray_platform_is_terminal(stream) ? DRAY_VIEW_LIVE : DRAY_VIEW_PLAIN;
  v->mode = mode;
  v->verbose = verbose;
  v->color = dray_color_wanted(stream, pool);
  v->long_pool = pool;
  v->pool = dray_pool_create_sub(pool);
  return v;
}

static double seconds(apr_interval_time_t t)
{
  return (double)t / APR_USEC_PER_SEC;
}

static const char *human_bytes(apr_int64_t n, apr_pool_t *pool);

static const char *timestamp(apr_time_t t, apr_pool_t *pool)
{
  apr_time_exp_t e;
  apr_time_exp_gmt(&e, t);
  return apr_psprintf(pool, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", e.tm_year + 1900,
                      e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec,
                      e.tm_usec / 1000);
}

static const char *human_bytes(apr_int64_t n, apr_pool_t *pool)
{
  if (n >= 1024 * 1024 * 1024)
    return apr_psprintf(pool, "%.1f GB", (double)n / (1024.0 * 1024 * 1024));
  if (n >= 1024 * 1024)
    return apr_psprintf(pool, "%.1f MB", (double)n / (1024.0 * 1024));
  if (n >= 1024)
    return apr_psprintf(pool, "%.1f kB", (double)n / 1024.0);
  return apr_psprintf(pool, "%" APR_INT64_T_FMT " B", n);
}

static void erase_block(dray_view_t *v)
{
  if (v->drawn_lines > 0) {
    /* Up to the block's first line, then erase to the end of the screen. */
    fprintf(v->out, "\r\033[%dA\033[J", v->drawn_lines);
    v->drawn_lines = 0;
  }
}

static void put_line(dray_view_t *v, const char *line, int width)
{
  /* Never wrap: a wrapped line would break the cursor arithmetic. No
   * peer's control character reaches the terminal. */
  line = dray_text_printable(line, v->pool);
  if (width > 1 && strlen(line) >= (apr_size_t)width)
    fprintf(v->out, "%.*s\n", width - 1, line);
  else
    fprintf(v->out, "%s\n", line);
  v->drawn_lines++;
}

/* Bytes pushed so far (finished pushes and running ones), throughput since
 * the first push began, and the time left for the bytes known to remain. */
static const char *transfer_summary(const dray_run_t *run, apr_time_t now, apr_pool_t *p)
{
  apr_int64_t done = run->bytes_pushed, left = 0;
  double rate, elapsed;
  int i;
  for (i = 0; i < run->active->nelts; i++) { /* only what runs: cheap at any N */
    const dray_job_t *job = APR_ARRAY_IDX(run->active, i, const dray_job_t *);
    if (job->state != DRAY_JOB_PUSHING)
      continue;
    done += job->progress.bytes_done;
    if (job->progress.bytes_total > job->progress.bytes_done)
      left += job->progress.bytes_total - job->progress.bytes_done;
  }
  if (!run->first_push_start || done == 0)
    return "";
  elapsed = seconds(now - run->first_push_start);
  rate = elapsed > 0 ? (double)done / elapsed : 0;
  return apr_psprintf(p, "  pushed %s, %s/s%s", human_bytes(done, p),
                      human_bytes((apr_int64_t)rate, p),
                      left > 0 && rate > 0 ? apr_psprintf(p, ", ETA %.0fs", (double)left / rate) : "");
}

static void draw_block(dray_view_t *v, const dray_run_t *run)
{
  apr_pool_t *p = v->pool;
  int width = dray_platform_terminal_width(v->out);
  dray_run_counts_t c;
  apr_time_t now = apr_time_now();
  int i, shown = 0, running = 0;
  const char *head, *transfer;

  apr_pool_clear(p);
  dray_run_count(&c, run);
  head = apr_psprintf(p, "[%5.1fs] %d %s: %d waiting, %d queued, %d building, %d built, "
                         "%d pushing, %d %s, %d failed, %d skipped%s  (-j %d -p %d)%s",
                      (double)(now - run->start) / APR_USEC_PER_SEC, run->jobs->nelts,
                      run->jobs->nelts == 1 ? "image" : "images", c.waiting, c.queued,
                      c.building, c.built, c.pushing, c.done,
                      run->mode == DRAY_MODE_BUILD ? "built" : "pushed", c.failed, c.skipped,
                      c.retrying ? apr_psprintf(p, ", %d retrying", c.retrying) : "",
                      run->builders, run->pushers,
                      run->cancelling ? "  [cancelling]" : run->draining ? "  [draining]" : "");
  put_line(v, head, width);
  transfer = transfer_summary(run, now, p);
  if (*transfer)
    put_line(v, apr_psprintf(p, "        %s", transfer + 2), width);
  for (i = 0; i < run->active->nelts; i++) { /* only what runs: cheap at any N */
    const dray_job_t *job = APR_ARRAY_IDX(run->active, i, const dray_job_t *);
    const char *extra = "";
    if (job->state != DRAY_JOB_BUILDING && job->state != DRAY_JOB_PUSHING)
      continue;
    running++;
    if (shown >= MAX_JOB_LINES)
      continue;
    if (job->state == DRAY_JOB_PUSHING) {
      const dray_push_progress_t *pr = &job->progress;
      if (pr->layers_total > 0)
        extra = apr_psprintf(p, "  %d/%d layers", pr->layers_done, pr->layers_total);
      if (pr->bytes_total > 0) {
        double el = seconds(now - job->phase_start);
        extra = apr_psprintf(p, "%s  %s / %s  %s/s", extra, human_bytes(pr->bytes_done, p),
                             human_bytes(pr->bytes_total, p),
                             human_bytes(el > 0 ? (apr_int64_t)((double)pr->bytes_done / el) : 0, p));
      }
      if (job->waiting_for_slot)
        extra = apr_psprintf(p, "  waiting for a push slot (%s)", run->global_slots);
      else if (pr->waiting)
        extra = apr_pstrcat(p, extra, "  waiting (engine upload limit)", NULL);
      else if (now - job->progress_at >= SHOW_STALL_AFTER)
        extra = apr_psprintf(p, "%s  no progress for %.0fs", extra,
                             seconds(now - job->progress_at));
    }
    if (run->engines->nelts > 1) /* several engines: where it runs */
      extra = apr_pstrcat(p, "  on ", dray_text_printable(dray_run_engine_name(run, job->engine), p),
                          extra, NULL);
    put_line(v, apr_psprintf(p, "  %-9s %-40s %6.1fs%s%s",
                             job->state == DRAY_JOB_BUILDING ? "building" : "pushing",
                             job->image->name, (double)(now - job->phase_start) / APR_USEC_PER_SEC,
                             (job->state == DRAY_JOB_BUILDING ? job->build_attempts : job->push_attempts) > 1
                                 ? apr_psprintf(p, "  attempt %d",
                                                job->state == DRAY_JOB_BUILDING ? job->build_attempts
                                                                                : job->push_attempts)
                                 : "",
                             extra),
             width);
    shown++;
  }
  if (running > shown)
    put_line(v, apr_psprintf(p, "  ... and %d more", running - shown), width);
  fflush(v->out);
  v->last_draw = now;
}

static void view_event(void *baton, const dray_run_t *run, const dray_event_t *ev)
{
  dray_view_t *v = baton;
  apr_pool_t *p = v->pool;
  const dray_job_t *job = ev->job;
  const char *word = dray_event_word(ev->kind);
  const char *detail, *line, *name;

  if (v->mode == DRAY_VIEW_QUIET && !dray_event_is_problem(ev->kind))
    return;
  /* The live block shows what starts; lasting lines are for the rest. */
  if (v->mode == DRAY_VIEW_LIVE && dray_event_class(ev->kind) == DRAY_EVENT_CLASS_STARTED)
    return;
  apr_pool_clear(p);
  /* The peer's text escaped (no control character reaches the terminal),
   * not the line: its color escapes are dray's own. */
  detail = dray_event_detail(ev, p);
  if (!detail && job && run->engines->nelts > 1
      && dray_event_class(ev->kind) == DRAY_EVENT_CLASS_STARTED)
    detail = apr_pstrcat(p, "on ", dray_run_engine_name(run, job->engine), NULL);
  detail = detail ? dray_text_printable(detail, p) : NULL;
  name = job ? dray_text_printable(job->image->name, p) : "";
  /* Padded, then colored: the escapes take no column. */
  word = dray_color_wrap(dray_color_of_event(ev->kind),
                         apr_psprintf(p, v->mode == DRAY_VIEW_LIVE ? "%-12s" : "%-13s", word),
                         v->color, p);
  if (v->mode == DRAY_VIEW_LIVE) {
    erase_block(v);
    line = apr_psprintf(p, "%s %s%s%s", word, name, detail ? (job ? "  " : "") : "",
                        detail ? detail : "");
  } else {
    line = apr_psprintf(p, "%s %s %s%s%s", timestamp(ev->time, p), word, name,
                        detail ? (job ? "  " : "") : "", detail ? detail : "");
    if (v->verbose && job && job->log_path && dray_event_is_problem(ev->kind))
      line = apr_pstrcat(p, line, "  (log: ", dray_text_printable(job->log_path, p), ")", NULL);
  }
  fprintf(v->out, "%s\n", line);
  if (v->mode == DRAY_VIEW_LIVE)
    draw_block(v, run);
  fflush(v->out);
}

/* Plain mode: a status line now and then, so a CI log shows a long push
 * is alive (or is not). */
static void plain_status(dray_view_t *v, const dray_run_t *run)
{
  apr_time_t now = apr_time_now();
  apr_pool_t *p = v->pool;
  dray_run_counts_t c;
  int i;
  if (now - v->last_status < PLAIN_STATUS_INTERVAL)
    return;
  if (!v->last_status) {
    v->last_status = now; /* the first one after an interval, not at once */
    return;
  }
  v->last_status = now;
  apr_pool_clear(p);
  dray_run_count(&c, run);
  fprintf(v->out, "%s status        %d building, %d pushing, %d queued, %d %s, %d failed%s\n",
          timestamp(now, p), c.building, c.pushing, c.queued + c.waiting + c.built, c.done,
          run->mode == DRAY_MODE_BUILD ? "built" : "pushed", c.failed,
          transfer_summary(run, now, p));
  for (i = 0; i < run->active->nelts; i++) { /* only what runs: cheap at any N */
    const dray_job_t *job = APR_ARRAY_IDX(run->active, i, const dray_job_t *);
    if (job->state == DRAY_JOB_PUSHING && !job->progress.waiting && !job->waiting_for_slot &&
        now - job->progress_at >= SHOW_STALL_AFTER)
      fprintf(v->out, "%s status        %s: push without progress for %.0fs\n",
              timestamp(now, p), job->image->name, seconds(now - job->progress_at));
  }
  fflush(v->out);
}

static void view_tick(void *baton, const dray_run_t *run, apr_time_t now)
{
  dray_view_t *v = baton;
  (void)now;
  if (v->mode == DRAY_VIEW_PLAIN)
    plain_status(v, run);
  if (v->mode != DRAY_VIEW_LIVE)
    return;
  if (apr_time_now() - v->last_draw < REDRAW_INTERVAL)
    return;
  erase_block(v);
  draw_block(v, run);
}

static void view_finish(void *baton, const dray_run_t *run)
{
  dray_view_t *v = baton;
  (void)run;
  if (v->mode == DRAY_VIEW_LIVE) {
    erase_block(v);
    fflush(v->out);
  }
}

dray_sink_t dray_view_sink(dray_view_t *v)
{
  dray_sink_t sink;
  memset(&sink, 0, sizeof(sink));
  sink.event = view_event;
  sink.tick = view_tick;
  sink.finish = view_finish;
  sink.baton = v;
  return sink;
}
