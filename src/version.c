/* version.c — the version line and the libraries dray runs with. */
#include "dray/version.h"

#include <apr_version.h>
#include <apu_version.h>
#include <curl/curl.h>
#include <jansson.h>
#include <yaml.h>

#include "dray/version_git.h"

const char *dray_version_git(void)
{
  return DRAY_GIT_DESCRIBE;
}

const char *dray_version_line(void)
{
  return DRAY_GIT_DESCRIBE[0] ? "dray " DRAY_VERSION " (git " DRAY_GIT_DESCRIBE ")"
                              : "dray " DRAY_VERSION;
}

void dray_version_print(FILE *out, apr_pool_t *scratch_pool)
{
  const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  (void)scratch_pool;
  fprintf(out, "%s\n", dray_version_line());
  fprintf(out, "  %-9s %s\n", "APR", apr_version_string());
  fprintf(out, "  %-9s %s\n", "APR-util", apu_version_string());
  fprintf(out, "  %-9s %s (TLS: %s)\n", "libcurl", cv->version,
          cv->ssl_version && *cv->ssl_version ? cv->ssl_version : "none");
  fprintf(out, "  %-9s %s\n", "jansson", jansson_version_str());
  fprintf(out, "  %-9s %s\n", "libyaml", yaml_get_version_string());
}
