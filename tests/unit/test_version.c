/* test_version.c — `dray version`: CMake's version, the libraries linked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_version.h>
#include <apu_version.h>
#include <curl/curl.h>
#include <jansson.h>
#include <yaml.h>

#include "dray/version.h"
#include "testutil.h"

static char *printed(void)
{
  static char buf[4096];
  FILE *f = tmpfile();
  size_t n;
  assert_non_null(f);
  dray_version_print(f, pool);
  rewind(f);
  n = fread(buf, 1, sizeof(buf) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_version_is_cmakes(void **state)
{
  (void)state;
  assert_string_equal(DRAY_VERSION, DRAY_TEST_PROJECT_VERSION);
  assert_int_equal(strncmp(dray_version_line(), "dray " DRAY_TEST_PROJECT_VERSION,
                           strlen("dray " DRAY_TEST_PROJECT_VERSION)), 0);
  if (*dray_version_git())
    assert_non_null(strstr(dray_version_line(), dray_version_git()));
  else
    assert_string_equal(dray_version_line(), "dray " DRAY_TEST_PROJECT_VERSION);
}

static void test_version_names_linked_libraries(void **state)
{
  const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  char *out, line[256];
  (void)state;
  out = printed();
  assert_int_equal(strncmp(out, dray_version_line(), strlen(dray_version_line())), 0);
  snprintf(line, sizeof(line), "APR       %s\n", apr_version_string());
  assert_non_null(strstr(out, line));
  snprintf(line, sizeof(line), "APR-util  %s\n", apu_version_string());
  assert_non_null(strstr(out, line));
  snprintf(line, sizeof(line), "libcurl   %s (TLS: %s)\n", cv->version,
           cv->ssl_version ? cv->ssl_version : "none");
  assert_non_null(strstr(out, line));
  assert_non_null(cv->ssl_version); /* built with a TLS backend on both platforms */
  snprintf(line, sizeof(line), "jansson   %s\n", jansson_version_str());
  assert_non_null(strstr(out, line));
  snprintf(line, sizeof(line), "libyaml   %s\n", yaml_get_version_string());
  assert_non_null(strstr(out, line));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_version_is_cmakes),
    cmocka_unit_test(test_version_names_linked_libraries),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
