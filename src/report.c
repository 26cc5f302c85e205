/* report.c — summary table and JSON report. */
#include "dray/report.h"

#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <jansson.h>

#include "dray/color.h"
#include "dray/file.h"
#include "dray/text.h"
#include "dray/version.h"

static double secs(apr_interval_time_t t)
{
  return (double)t / APR_USEC_PER_SEC;
}

static const char *short_digest(const char *d, apr_pool_t *pool)
{
  if (!d)
    return "-";
  /* "sha256:" + 12 hex, like docker's short ids */
  return strlen(d) > 19 ? apr_pstrndup(pool, d, 19) : d;
}

static const char *plural(int n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

void dray_report_print_summary(FILE *out, const dray_run_t *run, int verbose,
                               apr_pool_t *scratch_pool)
{
  dray_run_counts_t c;
  int i, w = 5, color = dray_color_wanted(out, scratch_pool);

  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    apr_size_t n = strlen(job->image->name);
    if (n > (apr_size_t)w)
      w = n > 60 ? 60 : (int)n;
  }
  if (w > 60)
    w = 60;
  fprintf(out, "\n%-*s  %-11s  %7s  %7s  %8s  %s\n", w, "IMAGE", "STATUS", "BUILD", "PUSH",
          "ATTEMPTS", "DIGEST");
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    const char *b = job->build_attempts ? apr_psprintf(scratch_pool, "%.1fs", secs(job->build_time)) : "-";
    const char *p = job->push_attempts ? apr_psprintf(scratch_pool, "%.1fs", secs(job->push_time)) : "-";
    fprintf(out, "%-*s  %s  %7s  %7s  %8s  %s\n", w, job->image->name,
            dray_color_wrap(dray_color_of_state(job->state),
                            apr_psprintf(scratch_pool, "%-11s", dray_job_state_word(run, job)),
                            color, scratch_pool), b, p,
            apr_psprintf(scratch_pool, "%d/%d", job->build_attempts, job->push_attempts),
            verbose && dray_job_digest(job) ? dray_job_digest(job)
                                            : short_digest(dray_job_digest(job), scratch_pool));
  }
  {
    /* One list, joined once (joining in the loop was quadratic). */
    apr_array_header_t *not_started = apr_array_make(scratch_pool, 8, sizeof(const char *));
    for (i = 0; i < run->jobs->nelts; i++) {
      const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
      if (job->state == DRAY_JOB_DONE || !job->error)
        continue;
      /* Images an interrupt kept from starting: one line for all of them. */
      if (job->state == DRAY_JOB_INTERRUPTED && !job->build_attempts && !job->push_attempts) {
        if (not_started->nelts)
          APR_ARRAY_PUSH(not_started, const char *) = ", ";
        APR_ARRAY_PUSH(not_started, const char *) = job->image->name;
        continue;
      }
      fprintf(out, "\n%s: %s\n", job->image->name, dray_text_printable(job->error, scratch_pool));
      if (job->build_attempts || job->push_attempts)
        fprintf(out, "  log: %s\n", job->log_path);
    }
    if (not_started->nelts)
      fprintf(out, "\nnot started (interrupted): %s\n",
              apr_array_pstrcat(scratch_pool, not_started, 0));
  }
  dray_run_count(&c, run);
  fprintf(out, "\n%d %s in %.1fs: %d %s, %d failed, %d skipped, %d interrupted "
               "(at most %d %s and %d %s at once)\n",
          run->jobs->nelts, plural(run->jobs->nelts, "image", "images"),
          secs(run->end - run->start), c.done,
          run->mode == DRAY_MODE_BUILD ? "built" : "pushed", c.failed, c.skipped,
          c.interrupted, run->max_running_builds,
          plural(run->max_running_builds, "build", "builds"), run->max_running_pushes,
          plural(run->max_running_pushes, "push", "pushes"));
  if (run->engines->nelts > 1) {
    for (i = 0; i < run->engines->nelts; i++) {
      const dray_engine_state_t *eng = &APR_ARRAY_IDX(run->engines, i, dray_engine_state_t);
      fprintf(out, "engine %s: %d %s, %d %s, busy %.1fs%s\n", dray_run_engine_name(run, i),
              eng->builds, plural(eng->builds, "build", "builds"), eng->pushes,
              plural(eng->pushes, "push", "pushes"), secs(eng->busy),
              eng->down ? "; went down" : "");
    }
  }
  if (run->resumed_uploads)
    fprintf(out, "%d %s resumed where the registry had stopped: %.1f MB not sent again\n",
            run->resumed_uploads, plural(run->resumed_uploads, "upload", "uploads"),
            (double)run->bytes_saved / (1024.0 * 1024));
  if (run->limits && run->limits->nelts > 1) {
    apr_array_header_t *b = apr_array_make(scratch_pool, run->limits->nelts, sizeof(char *));
    apr_array_header_t *p = apr_array_make(scratch_pool, run->limits->nelts, sizeof(char *));
    for (i = 0; i < run->limits->nelts; i++) {
      const dray_limits_change_t *lc = &APR_ARRAY_IDX(run->limits, i, dray_limits_change_t);
      APR_ARRAY_PUSH(b, char *) = apr_itoa(scratch_pool, lc->builders);
      APR_ARRAY_PUSH(p, char *) = apr_itoa(scratch_pool, lc->pushers);
    }
    fprintf(out, "limits over the run (auto): builders %s; pushers %s\n",
            apr_array_pstrcat(scratch_pool, b, ' '), apr_array_pstrcat(scratch_pool, p, ' '));
  }
  fflush(out);
}

static json_t *time_or_null(apr_time_t t)
{
  return t ? json_real(secs(t)) : json_null();
}

static json_t *str_or_null(const char *s)
{
  return s ? json_string(s) : json_null();
}

static json_t *job_json(const dray_run_t *run, const dray_job_t *job, apr_pool_t *pool)
{
  const dray_image_t *img = job->image;
  json_t *o = json_object(), *tags = json_array(), *refs = json_array();
  json_t *tagd = json_object(), *deps = json_array(), *attempts = json_array();
  int i;

  for (i = 0; i < img->tags->nelts; i++) {
    const char *tag = APR_ARRAY_IDX(img->tags, i, const char *);
    json_array_append_new(tags, json_string(tag));
    json_array_append_new(refs, json_string(dray_image_ref(img, tag, pool)));
    if (i < job->tag_digests->nelts)
      json_object_set_new(tagd, tag, json_string(APR_ARRAY_IDX(job->tag_digests, i, const char *)));
  }
  for (i = 0; img->deps && i < img->deps->nelts; i++) {
    const dray_image_t *d = APR_ARRAY_IDX(run->plan->images, APR_ARRAY_IDX(img->deps, i, int),
                                          const dray_image_t *);
    json_array_append_new(deps, json_string(d->name));
  }
  for (i = 0; i < job->attempts->nelts; i++) {
    const dray_attempt_t *a = &APR_ARRAY_IDX(job->attempts, i, dray_attempt_t);
    json_array_append_new(attempts,
        json_pack("{s:s, s:i, s:o, s:o, s:s, s:o, s:f, s:s}", "phase",
                  a->phase == DRAY_PHASE_BUILD ? "build" : "push", "number", a->number,
                  "start", time_or_null(a->start), "end", time_or_null(a->end),
                  "result", dray_outcome_word(a->outcome), "error", str_or_null(a->error),
                  "slot_wait_seconds", secs(a->slot_wait),
                  "engine", dray_run_engine_name(run, a->engine)));
  }
  json_object_set_new(o, "name", json_string(img->name));
  json_object_set_new(o, "repository", json_string(img->repository));
  json_object_set_new(o, "tags", tags);
  json_object_set_new(o, "references", refs);
  json_object_set_new(o, "origin", str_or_null(img->origin));
  json_object_set_new(o, "depends_on", deps);
  json_object_set_new(o, "status", json_string(dray_job_state_word(run, job)));
  json_object_set_new(o, "reason", job->state == DRAY_JOB_DONE || !DRAY_JOB_IS_FINAL(job->state)
                                        ? json_null()
                                        : json_string(dray_outcome_word(job->outcome)));
  json_object_set_new(o, "error", str_or_null(job->error));
  json_object_set_new(o, "log", str_or_null(job->log_path));
  json_object_set_new(o, "image_id", str_or_null(job->image_id));
  json_object_set_new(o, "digest", str_or_null(dray_job_digest(job)));
  json_object_set_new(o, "tag_digests", tagd);
  json_object_set_new(o, "up_to_date", json_boolean(job->up_to_date));
  /* true: the registry served every pushed digest; null: not checked */
  json_object_set_new(o, "verified", job->state == DRAY_JOB_DONE && !job->up_to_date && run->verify
                                         ? json_boolean(job->verified) : json_null());
  json_object_set_new(o, "bytes_pushed", json_integer(job->bytes_pushed));
  json_object_set_new(o, "resumed_uploads", json_integer(job->resumed_uploads));
  json_object_set_new(o, "bytes_saved_by_resume", json_integer(job->bytes_saved));
  json_object_set_new(o, "build_seconds", json_real(secs(job->build_time)));
  json_object_set_new(o, "push_seconds", json_real(secs(job->push_time)));
  json_object_set_new(o, "slot_wait_seconds", json_real(secs(job->slot_wait)));
  json_object_set_new(o, "build_attempts", json_integer(job->build_attempts));
  json_object_set_new(o, "push_attempts", json_integer(job->push_attempts));
  json_object_set_new(o, "build_start", time_or_null(job->build_start));
  json_object_set_new(o, "build_end", time_or_null(job->build_end));
  json_object_set_new(o, "push_start", time_or_null(job->push_start));
  json_object_set_new(o, "push_end", time_or_null(job->push_end));
  json_object_set_new(o, "attempts", attempts);
  return o;
}

/* Per engine: what it did, how long it was busy, whether it went down. */
static json_t *engines_json(const dray_run_t *run)
{
  json_t *engines = json_array();
  int e;
  for (e = 0; e < run->engines->nelts; e++) {
    const dray_engine_state_t *eng = &APR_ARRAY_IDX(run->engines, e, dray_engine_state_t);
    json_array_append_new(engines,
        json_pack("{s:s, s:i, s:i, s:f, s:b, s:o}", "name", dray_run_engine_name(run, e),
                  "builds", eng->builds, "pushes", eng->pushes, "busy_seconds",
                  secs(eng->busy), "down", eng->down, "down_at", time_or_null(eng->down_at)));
  }
  return engines;
}

json_t *dray_report_json(const dray_run_t *run, int exit_code, apr_pool_t *scratch_pool)
{
  static const char *modes[] = {"", "run", "build", "push"};
  dray_run_counts_t c;
  json_t *root, *limits, *images = json_array();
  int i;

  dray_run_count(&c, run);
  for (i = 0; i < run->jobs->nelts; i++)
    json_array_append_new(images, job_json(run, APR_ARRAY_IDX(run->jobs, i, const dray_job_t *),
                                           scratch_pool));
  root = json_pack("{s:s, s:s, s:o, s:o, s:f, s:i, s:i, s:i, s:i, s:b, s:i, s:I, "
                   "s:{s:i, s:i, s:i, s:i, s:i}, s:o}",
                   "dray_version", DRAY_VERSION, "mode", modes[run->mode],
                   "start", time_or_null(run->start), "end", time_or_null(run->end),
                   "seconds", secs(run->end - run->start), "builders", run->builders,
                   "pushers", run->pushers, "max_running_builds", run->max_running_builds,
                   "max_running_pushes", run->max_running_pushes,
                   "interrupted", run->interrupts > 0, "exit_code", exit_code,
                   "bytes_pushed", (json_int_t)run->bytes_pushed,
                   "counts", "done", c.done, "failed", c.failed, "skipped", c.skipped,
                   "interrupted", c.interrupted, "total", run->jobs->nelts,
                   "images", images);
  if (!root)
    return NULL;
  json_object_set_new(root, "global_slots", str_or_null(run->global_slots));
  json_object_set_new(root, "resumed_uploads", json_integer(run->resumed_uploads));
  json_object_set_new(root, "bytes_saved_by_resume", json_integer(run->bytes_saved));
  /* How the limits moved (--builders/--pushers auto): the first entry is
   * where they started. */
  limits = json_array();
  for (i = 0; run->limits && i < run->limits->nelts; i++) {
    const dray_limits_change_t *lc = &APR_ARRAY_IDX(run->limits, i, dray_limits_change_t);
    json_array_append_new(limits, json_pack("{s:f, s:i, s:i}", "time", secs(lc->time),
                                            "builders", lc->builders, "pushers", lc->pushers));
  }
  json_object_set_new(root, "limits", limits);
  json_object_set_new(root, "engines", engines_json(run));
  return root;
}

dray_error_t *dray_report_write_json(const char *path, const dray_run_t *run,
                                     int exit_code, apr_pool_t *scratch_pool)
{
  json_t *root = dray_report_json(run, exit_code, scratch_pool);
  dray_error_t *err;
  char *text;

  if (!root)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "cannot build the JSON report");
  text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (!text)
    return dray_error_createf(DRAY_ERR_PROTOCOL, NULL, "cannot build the JSON report");
  /* Owner-only (the report holds build arguments), never through a link. */
  err = dray_file_write_private(path, apr_pstrcat(scratch_pool, text, "\n", NULL),
                                strlen(text) + 1, "report", scratch_pool);
  free(text);
  return err;
}

/* Sort helper: push attempts as [start, end] intervals. */
static int interval_cmp(const void *x, const void *y)
{
  const double *a = x, *b = y;
  return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The link's throughput in the report ROOT: the bytes its pushes sent over
 * the time at least one push ran (overlapping attempts counted once); 0 if
 * unknown. */
static double link_rate(json_t *images)
{
  apr_size_t i, k, n = 0, cap = 16;
  double *iv = malloc(sizeof(double) * 2 * cap), busy = 0, bytes = 0, end = 0;
  json_t *img;
  if (!iv)
    return 0;
  json_array_foreach(images, i, img) {
    json_t *a;
    bytes += json_number_value(json_object_get(img, "bytes_pushed"));
    json_array_foreach(json_object_get(img, "attempts"), k, a) {
      const char *phase = json_string_value(json_object_get(a, "phase"));
      if (!phase || strcmp(phase, "push") != 0 || !json_is_number(json_object_get(a, "end")))
        continue;
      if (n == cap) {
        double *bigger = realloc(iv, sizeof(double) * 4 * cap);
        if (!bigger)
          break;
        iv = bigger;
        cap *= 2;
      }
      iv[2 * n] = json_number_value(json_object_get(a, "start"))
                  + json_number_value(json_object_get(a, "slot_wait_seconds"));
      iv[2 * n + 1] = json_number_value(json_object_get(a, "end"));
      n++;
    }
  }
  qsort(iv, n, sizeof(double) * 2, interval_cmp);
  for (k = 0; k < n; k++) {
    double from = iv[2 * k] > end ? iv[2 * k] : end;
    if (iv[2 * k + 1] > from)
      busy += iv[2 * k + 1] - from;
    if (iv[2 * k + 1] > end)
      end = iv[2 * k + 1];
  }
  free(iv);
  return busy > 0 && bytes > 0 ? bytes / busy : 0;
}

apr_hash_t *dray_report_read_estimates(const char *path, apr_pool_t *result_pool)
{
  apr_hash_t *estimates = apr_hash_make(result_pool);
  json_error_t jerr;
  json_t *root, *images, *img;
  apr_size_t i;
  double rate;

  if (!path || !(root = json_load_file(path, 0, &jerr)))
    return estimates;
  images = json_object_get(root, "images");
  rate = link_rate(images);
  json_array_foreach(images, i, img) {
    const char *name = json_string_value(json_object_get(img, "name"));
    json_t *secs = json_object_get(img, "build_seconds");
    json_t *attempts = json_object_get(img, "build_attempts");
    double bytes = json_number_value(json_object_get(img, "bytes_pushed"));
    dray_estimate_t *e;
    if (!name)
      continue;
    e = apr_pcalloc(result_pool, sizeof(*e));
    /* Only a build that ran: an image skipped or pushed alone took no time. */
    if (json_is_number(secs) && json_integer_value(attempts) > 0)
      e->build_seconds = json_number_value(secs) / (double)json_integer_value(attempts);
    /* A push alone on the link: its bytes at the link's rate. */
    if (rate > 0 && bytes > 0)
      e->push_seconds = bytes / rate;
    if (e->build_seconds > 0 || e->push_seconds > 0)
      apr_hash_set(estimates, apr_pstrdup(result_pool, name), APR_HASH_KEY_STRING, e);
  }
  json_decref(root);
  return estimates;
}

dray_error_t *dray_report_check_path(const char *path, apr_pool_t *scratch_pool)
{
  return dray_file_check_output(path, 0, "--report", scratch_pool);
}
