/* junit.c — JUnit XML: one test case per image. */
#include "dray/junit.h"

#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "dray/file.h"
#include "dray/joblog.h"
#include "dray/strbuf.h"
#include "dray/xml.h"

static double secs(apr_interval_time_t t)
{
  return (double)t / APR_USEC_PER_SEC;
}

/* "build: ok after 2 attempts, 3.2s" */
static const char *step(const dray_job_t *job, dray_phase_t phase, apr_pool_t *p)
{
  int attempts = phase == DRAY_PHASE_BUILD ? job->build_attempts : job->push_attempts;
  const char *result = "-";
  int i;
  for (i = 0; i < job->attempts->nelts; i++) {
    const dray_attempt_t *a = &APR_ARRAY_IDX(job->attempts, i, dray_attempt_t);
    if (a->phase == phase)
      result = dray_outcome_word(a->outcome);
  }
  if (!attempts)
    return apr_pstrcat(p, phase == DRAY_PHASE_BUILD ? "build" : "push", ": not run", NULL);
  return apr_psprintf(p, "%s: %s after %d attempt%s, %.1fs", phase == DRAY_PHASE_BUILD ? "build" : "push",
                      result, attempts, attempts == 1 ? "" : "s",
                      secs(phase == DRAY_PHASE_BUILD ? job->build_time : job->push_time));
}

static const char *testcase(const dray_run_t *run, const dray_job_t *job, apr_pool_t *p)
{
  static const char *modes[] = {"", "run", "build", "push"};
  const char *x, *steps;
  x = apr_psprintf(p, "    <testcase classname=\"dray.%s\" name=\"%s\" time=\"%.3f\">\n",
                   modes[run->mode], dray_xml_escape(job->image->name, p),
                   secs(job->build_time + job->push_time));
  steps = apr_pstrcat(p, step(job, DRAY_PHASE_BUILD, p), "\n",
                      run->mode != DRAY_MODE_BUILD ? step(job, DRAY_PHASE_PUSH, p) : "",
                      run->mode != DRAY_MODE_BUILD ? "\n" : "", NULL);
  x = apr_pstrcat(p, x, "      <properties>\n",
                  apr_psprintf(p, "        <property name=\"build_attempts\" value=\"%d\"/>\n"
                                  "        <property name=\"push_attempts\" value=\"%d\"/>\n",
                               job->build_attempts, job->push_attempts),
                  dray_job_digest(job)
                      ? apr_psprintf(p, "        <property name=\"digest\" value=\"%s\"/>\n",
                                     dray_xml_escape(dray_job_digest(job), p))
                      : "",
                  "      </properties>\n", NULL);
  if (job->state == DRAY_JOB_FAILED) {
    x = apr_pstrcat(p, x,
                    apr_psprintf(p, "      <failure type=\"%s\" message=\"%s\">%s%s</failure>\n",
                                 dray_outcome_word(job->outcome),
                                 dray_xml_escape(job->error ? job->error : "failed", p),
                                 dray_xml_escape(job->error ? job->error : "", p),
                                 job->log_path
                                     ? dray_xml_escape(
                                           apr_pstrcat(p, "\n\nlog ", job->log_path, " (last lines):\n",
                                                       dray_joblog_tail(job->log_path,
                                                                        DRAY_JUNIT_LOG_LINES, p),
                                                       NULL),
                                           p)
                                     : ""),
                    NULL);
  } else if (job->state != DRAY_JOB_DONE) {
    x = apr_pstrcat(p, x,
                    apr_psprintf(p, "      <skipped message=\"%s: %s\"/>\n",
                                 dray_job_state_word(run, job),
                                 dray_xml_escape(job->error ? job->error
                                                              : dray_outcome_word(job->outcome), p)),
                    NULL);
  }
  return apr_pstrcat(p, x, "      <system-out>", dray_xml_escape(steps, p),
                     "</system-out>\n    </testcase>\n", NULL);
}

dray_error_t *dray_junit_write(const char *path, const dray_run_t *run, apr_pool_t *scratch_pool)
{
  apr_pool_t *iterpool;
  dray_strbuf_t xml;
  dray_run_counts_t c;
  apr_time_exp_t e;
  int i;

  dray_run_count(&c, run);
  apr_time_exp_gmt(&e, run->start);
  dray_strbuf_init(&xml, 8192, scratch_pool);
  dray_strbuf_appendf(&xml,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuites name=\"dray\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" "
                     "time=\"%.3f\">\n"
                     "  <testsuite name=\"dray\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
                     "skipped=\"%d\" time=\"%.3f\" timestamp=\"%04d-%02d-%02dT%02d:%02d:%02d\">\n",
                     run->jobs->nelts, c.failed, c.skipped + c.interrupted,
                     secs(run->end - run->start), run->jobs->nelts, c.failed,
                     c.skipped + c.interrupted, secs(run->end - run->start), e.tm_year + 1900,
                     e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
  apr_pool_create(&iterpool, scratch_pool);
  for (i = 0; i < run->jobs->nelts; i++) {
    const char *tc;
    apr_pool_clear(iterpool);
    tc = testcase(run, APR_ARRAY_IDX(run->jobs, i, const dray_job_t *), iterpool);
    dray_strbuf_append(&xml, tc, strlen(tc));
  }
  apr_pool_destroy(iterpool);
  dray_strbuf_appendf(&xml, "  </testsuite>\n</testsuites>\n");

  return dray_file_write_private(path, xml.data, xml.len, "JUnit report", scratch_pool);
}
