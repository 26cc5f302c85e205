/* github.c — GitHub Actions annotations, log groups and step summary. */
#include "dray/github.h"

#include <stdlib.h>
#include <string.h>

#include <apr_env.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "dray/file.h"
#include "dray/joblog.h"
#include "dray/strbuf.h"

#define LOG_GROUP_LINES 200

struct dray_github_t {
  FILE *out;
  const char *summary_path;
  const char *workdir;   /* with a trailing "/", or NULL */
  apr_pool_t *pool;      /* cleared per event */
};

int dray_github_active(apr_pool_t *scratch_pool)
{
  char *v;
  return apr_env_get(&v, "GITHUB_ACTIONS", scratch_pool) == APR_SUCCESS && strcmp(v, "true") == 0;
}

dray_github_t *dray_github_create(FILE *out, const char *summary_path, const char *workdir,
                                  apr_pool_t *pool)
{
  dray_github_t *gh = apr_pcalloc(pool, sizeof(*gh));
  gh->out = out;
  gh->summary_path = summary_path && *summary_path ? apr_pstrdup(pool, summary_path) : NULL;
  if (workdir && *workdir) {
    apr_size_t n = strlen(workdir);
    gh->workdir = workdir[n - 1] == '/' ? apr_pstrdup(pool, workdir)
                                        : apr_pstrcat(pool, workdir, "/", NULL);
  }
  apr_pool_create(&gh->pool, pool);
  return gh;
}

const char *dray_github_escape(const char *text, int property, apr_pool_t *result_pool)
{
  apr_size_t n = strlen(text), i, o = 0;
  char *out = apr_palloc(result_pool, n * 3 + 1);
  for (i = 0; i < n; i++) {
    const char *rep = NULL;
    switch (text[i]) {
    case '%': rep = "%25"; break;
    case '\r': rep = "%0D"; break;
    case '\n': rep = "%0A"; break;
    case ':': rep = property ? "%3A" : NULL; break;
    case ',': rep = property ? "%2C" : NULL; break;
    }
    if (rep) {
      memcpy(out + o, rep, 3);
      o += 3;
    } else {
      out[o++] = text[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* PATH relative to the checkout, which is what GitHub links to. */
static const char *relative(const dray_github_t *gh, const char *path)
{
  apr_size_t n = gh->workdir ? strlen(gh->workdir) : 0;
  if (n && strncmp(path, gh->workdir, n) == 0)
    return path + n;
  return path;
}

static void annotate(dray_github_t *gh, const char *file, int line, const char *title,
                     const char *message)
{
  apr_pool_t *p = gh->pool;
  const char *props = "";
  if (file)
    props = apr_pstrcat(p, "file=", dray_github_escape(relative(gh, file), 1, p), NULL);
  if (file && line > 0)
    props = apr_psprintf(p, "%s,line=%d", props, line);
  if (title)
    props = apr_pstrcat(p, props, *props ? "," : "", "title=", dray_github_escape(title, 1, p),
                        NULL);
  fprintf(gh->out, "::error%s%s::%s\n", *props ? " " : "", props,
          dray_github_escape(message, 0, p));
}

static const char *base_name(const char *path)
{
  const char *s = strrchr(path, '/'), *b = strrchr(path, '\\');
  if (b && (!s || b > s))
    s = b;
  return s ? s + 1 : path;
}

static void github_event(void *baton, const dray_run_t *run, const dray_event_t *ev)
{
  dray_github_t *gh = baton;
  const dray_job_t *job = ev->job;
  apr_pool_t *p = gh->pool;
  (void)run;
  if (!job || (ev->kind != DRAY_EVENT_BUILD_FAILED && ev->kind != DRAY_EVENT_PUSH_FAILED))
    return;
  apr_pool_clear(p);
  if (ev->kind == DRAY_EVENT_BUILD_FAILED) {
    const char *dockerfile = job->image->dockerfile;
    int line = 0;
    if (dockerfile && job->log_path) {
      char *text = NULL;
      apr_size_t len;
      dray_error_clear(dray_file_read(&text, &len, NULL, dockerfile, NULL, p));
      line = dray_joblog_dockerfile_line(dray_joblog_tail(job->log_path, 400, p),
                                         base_name(dockerfile), text);
    }
    annotate(gh, dockerfile, line, apr_psprintf(p, "dray: build of %s failed", job->image->name),
             ev->error ? ev->error : "build failed");
  } else {
    annotate(gh, NULL, 0, apr_psprintf(p, "dray: push of %s failed", job->image->name),
             ev->error ? ev->error : "push failed");
  }
  fflush(gh->out);
}

static const char *md_cell(const char *text, apr_pool_t *p)
{
  /* "|" ends a cell; a line end ends the row. */
  char *s = apr_pstrdup(p, text), *c;
  for (c = s; *c; c++)
    if (*c == '|' || *c == '\n' || *c == '\r')
      *c = ' ';
  return s;
}

static void write_summary(dray_github_t *gh, const dray_run_t *run)
{
  apr_pool_t *p = gh->pool;
  apr_file_t *f;
  dray_run_counts_t c;
  dray_strbuf_t md;
  int i;

  dray_run_count(&c, run);
  dray_strbuf_init(&md, 4096, p);
  dray_strbuf_appendf(&md, "### dray %s: %d of %d %s, %d failed, %d skipped, %d interrupted in "
                           "%.1fs\n\n| image | status | build | push | attempts | digest |\n"
                           "| --- | --- | ---: | ---: | ---: | --- |\n",
                      run->mode == DRAY_MODE_BUILD ? "build" : run->mode == DRAY_MODE_PUSH ? "push" : "run",
                      c.done, run->jobs->nelts, run->mode == DRAY_MODE_BUILD ? "built" : "pushed",
                      c.failed, c.skipped, c.interrupted,
                      (double)(run->end - run->start) / APR_USEC_PER_SEC);
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    /* ✅ done, ❌ failed, ⚠️ skipped or interrupted */
    const char *mark = job->state == DRAY_JOB_DONE     ? "\xe2\x9c\x85"
                       : job->state == DRAY_JOB_FAILED ? "\xe2\x9d\x8c"
                                                       : "\xe2\x9a\xa0\xef\xb8\x8f";
    dray_strbuf_appendf(&md, "| `%s` | %s %s | %s | %s | %d/%d | %s |\n", md_cell(job->image->name, p),
                        mark, dray_job_state_word(run, job),
                        job->build_attempts ? apr_psprintf(p, "%.1fs", (double)job->build_time / APR_USEC_PER_SEC) : "-",
                        job->push_attempts ? apr_psprintf(p, "%.1fs", (double)job->push_time / APR_USEC_PER_SEC) : "-",
                        job->build_attempts, job->push_attempts,
                        dray_job_digest(job) ? apr_pstrcat(p, "`", dray_job_digest(job), "`", NULL) : "-");
  }
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    if (job->state != DRAY_JOB_DONE && job->error)
      dray_strbuf_appendf(&md, "\n**%s**: %s\n", md_cell(job->image->name, p), md_cell(job->error, p));
  }
  dray_strbuf_appendf(&md, "\n");
  if (apr_file_open(&f, gh->summary_path, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND,
                    APR_FPROT_OS_DEFAULT, p) == APR_SUCCESS) {
    apr_file_write_full(f, md.data, md.len, NULL);
    apr_file_close(f);
  } else {
    fprintf(gh->out, "::warning::dray cannot append to the step summary %s\n",
            dray_github_escape(gh->summary_path, 0, p));
  }
}

static void github_finish(void *baton, const dray_run_t *run)
{
  dray_github_t *gh = baton;
  apr_pool_t *p = gh->pool;
  int i;
  apr_pool_clear(p);
  /* The logs of what did not make it, folded. */
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, const dray_job_t *);
    const char *tail;
    apr_size_t n;
    if (job->state != DRAY_JOB_FAILED || !job->log_path)
      continue;
    tail = dray_joblog_tail(job->log_path, LOG_GROUP_LINES, p);
    n = strlen(tail);
    fprintf(gh->out, "::group::dray: log of %s (%s, last %d lines)\n%s%s::endgroup::\n",
            job->image->name, dray_job_state_word(run, job), LOG_GROUP_LINES, tail,
            n && tail[n - 1] != '\n' ? "\n" : "");
  }
  if (gh->summary_path)
    write_summary(gh, run);
  fflush(gh->out);
}

dray_sink_t dray_github_sink(dray_github_t *gh)
{
  dray_sink_t sink;
  memset(&sink, 0, sizeof(sink));
  sink.event = github_event;
  sink.finish = github_finish;
  sink.baton = gh;
  return sink;
}

void dray_github_errors(dray_github_t *gh, const dray_error_t *err)
{
  for (; err; err = err->child) {
    const char *msg = err->message, *c1, *c2;
    if (!msg)
      continue;
    apr_pool_clear(gh->pool);
    /* "PATH:LINE: message" (compose and Dockerfile problems say where). */
    c2 = NULL;
    for (c1 = strchr(msg, ':'); c1; c1 = strchr(c1 + 1, ':')) {
      const char *d = c1 + 1;
      while (*d >= '0' && *d <= '9')
        d++;
      if (d > c1 + 1 && d[0] == ':' && d[1] == ' ') {
        c2 = d;
        break;
      }
    }
    if (c2 && c1 > msg)
      annotate(gh, apr_pstrndup(gh->pool, msg, (apr_size_t)(c1 - msg)), atoi(c1 + 1),
               "dray: input error", c2 + 2);
    else
      annotate(gh, NULL, 0, "dray: error", msg);
  }
  fflush(gh->out);
}
