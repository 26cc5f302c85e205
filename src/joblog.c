/* joblog.c — per-image log files. */
#include "dray/joblog.h"
#include "dray/pools.h"

#include <apr_file_info.h>
#include <apr_strings.h>

#include <stdlib.h>
#include <string.h>

#include "dray/file.h"
#include "dray/platform.h"

static const char *log_name(const char *name, apr_pool_t *pool)
{
  char *n = apr_pstrdup(pool, name), *p;
  for (p = n; *p; p++)
    if (*p == '/' || *p == '\\' || *p == ':')
      *p = '+';
  return apr_pstrcat(pool, n, ".log", NULL);
}

/* The files a job's log path stands for: the log and the build's --iidfile
 * (written by the engine's client, which follows links). */
static const char *const log_suffixes[] = {"", ".iid"};

dray_error_t *dray_joblog_check(const dray_run_t *run, const char *log_dir,
                                apr_pool_t *scratch_pool)
{
  dray_error_t *err = DRAY_NO_ERROR;
  apr_pool_t *iterpool;
  int i;
  size_t k;

  DRAY_ERR(dray_file_check_output(log_dir, 1, "--log-dir", scratch_pool));
  iterpool = dray_pool_create_sub(scratch_pool);
  for (i = 0; i < run->jobs->nelts; i++) {
    const dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, dray_job_t *);
    char *path;
    apr_pool_clear(iterpool);
    if (apr_filepath_merge(&path, log_dir, log_name(job->image->name, iterpool), 0, iterpool)
        != APR_SUCCESS)
      continue; /* dray_joblog_prepare says so */
    for (k = 0; k < sizeof(log_suffixes) / sizeof(log_suffixes[0]); k++) {
      dray_path_kind_t kind;
      int mine;
      const char *file = apr_pstrcat(iterpool, path, log_suffixes[k], NULL);
      if (dray_platform_path_kind(&kind, &mine, file, iterpool) != APR_SUCCESS
          || kind == DRAY_PATH_MISSING)
        continue;
      if (kind != DRAY_PATH_FILE || !mine)
        err = dray_error_compose(
            err, dray_error_createf(DRAY_ERR_INPUT, NULL,
                                    "%s: log file %s is %s; dray does not write through it "
                                    "(remove it)", job->image->name, file,
                                    kind == DRAY_PATH_LINK ? "a symbolic link"
                                    : kind != DRAY_PATH_FILE ? "not a regular file"
                                                             : "another user's"));
    }
  }
  apr_pool_destroy(iterpool);
  return err;
}

dray_error_t *dray_joblog_prepare(dray_run_t *run, const char *log_dir,
                                  apr_pool_t *result_pool, apr_pool_t *scratch_pool)
{
  apr_pool_t *iterpool;
  apr_status_t st;
  int i;

  DRAY_APR_ERR(apr_dir_make_recursive(log_dir, APR_FPROT_OS_DEFAULT, scratch_pool),
               "cannot create log folder %s", log_dir);
  iterpool = dray_pool_create_sub(scratch_pool);
  for (i = 0; i < run->jobs->nelts; i++) {
    dray_job_t *job = APR_ARRAY_IDX(run->jobs, i, dray_job_t *);
    char *path;
    apr_file_t *f;

    apr_pool_clear(iterpool);
    st = apr_filepath_merge(&path, log_dir, log_name(job->image->name, iterpool), 0,
                            result_pool);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "%s: bad log path", job->image->name);
    /* Start each run with an empty log: what it holds is this run's. Never
     * through a link; readable by the owner only (build arguments). */
    st = dray_platform_open_private(&f, path, APR_FOPEN_TRUNCATE, iterpool);
    if (st != APR_SUCCESS)
      return dray_error_wrap_apr(st, "%s: cannot create log %s", job->image->name, path);
    apr_file_close(f);
    job->log_path = path;
  }
  apr_pool_destroy(iterpool);
  return DRAY_NO_ERROR;
}

dray_error_t *dray_joblog_open(apr_file_t **log, const dray_job_t *job, apr_pool_t *pool)
{
  DRAY_APR_ERR(dray_platform_open_private(log, job->log_path, APR_FOPEN_APPEND, pool),
               "cannot open log %s", job->log_path);
  return DRAY_NO_ERROR;
}

const char *dray_joblog_tail(const char *path, int max_lines, apr_pool_t *result_pool)
{
  char *text;
  apr_size_t len;
  const char *p;
  int n = 0;
  dray_error_t *err = path ? dray_file_read(&text, &len, NULL, path, NULL, result_pool)
                           : dray_error_create(APR_ENOENT, NULL, "no log");
  if (err) {
    dray_error_clear(err);
    return "";
  }
  /* Back from the end over MAX_LINES line ends (a last one ends the text). */
  for (p = text + len; p > text; p--) {
    if (p[-1] == '\n' && p != text + len && ++n >= max_lines)
      break;
  }
  return p;
}

/* The line of DOCKERFILE_TEXT whose text (blanks trimmed) is INSTR, or
 * starts with it (an instruction continued with "\"); 0 when none is. */
static int line_of_instruction(const char *dockerfile_text, const char *instr, apr_size_t n)
{
  const char *p = dockerfile_text;
  int line = 1;
  while (n > 0 && (instr[n - 1] == ' ' || instr[n - 1] == '\r'))
    n--;
  while (p && *p) {
    const char *q = p;
    while (*q == ' ' || *q == '\t')
      q++;
    if (n > 0 && strncmp(q, instr, n) == 0)
      return line;
    p = strchr(p, '\n');
    if (p)
      p++;
    line++;
  }
  return 0;
}

int dray_joblog_dockerfile_line(const char *log_text, const char *dockerfile_name,
                                const char *dockerfile_text)
{
  apr_size_t n = strlen(dockerfile_name);
  const char *p = log_text, *instr = NULL;
  apr_size_t instr_len = 0;
  int line = 0;
  while (p && *p) {
    const char *eol = strchr(p, '\n');
    apr_size_t len = eol ? (apr_size_t)(eol - p) : strlen(p);
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
      len--;
    if (len > n + 1 && strncmp(p, dockerfile_name, n) == 0 && p[n] == ':') {
      /* BuildKit (newer): "Dockerfile:12" above the failing instruction. */
      const char *d = p + n + 1;
      apr_size_t k = 0;
      while (n + 1 + k < len && d[k] >= '0' && d[k] <= '9')
        k++;
      if (k > 0 && n + 1 + k == len)
        line = atoi(d);
    } else if (len > 4 && strncmp(p, " > [", 4) == 0 && p[len - 1] == ':') {
      /* BuildKit: " > [stage 2/3] RUN make:" names the failing instruction. */
      const char *close = memchr(p, ']', len);
      if (close && close + 2 < p + len) {
        instr = close + 2;
        instr_len = (apr_size_t)(p + len - 1 - instr);
      }
    } else if (len > 5 && strncmp(p, "Step ", 5) == 0) {
      /* The classic builder: "Step 2/3 : RUN make". */
      const char *colon = strstr(p, " : ");
      if (colon && colon < p + len) {
        instr = colon + 3;
        instr_len = (apr_size_t)(p + len - instr);
      }
    }
    p = eol ? eol + 1 : NULL;
  }
  if (!line && instr && dockerfile_text)
    line = line_of_instruction(dockerfile_text, instr, instr_len);
  return line;
}
