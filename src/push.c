/* push.c — what the push drivers share: reading their engines' words. */
#include "dray/push.h"

#include <ctype.h>
#include <string.h>

#include <apr_cstr.h>
#include <apr_strings.h>

const char *dray_push_parse_digest_line(const char *line, apr_int64_t *size,
                                        apr_pool_t *result_pool)
{
  const char *p = strstr(line, "digest: sha256:");
  const char *hex, *end;

  if (!p)
    return NULL;
  hex = p + strlen("digest: sha256:");
  for (end = hex; isxdigit((unsigned char)*end); end++)
    ;
  if (end - hex != 64)
    return NULL;
  if (size) {
    const char *s = strstr(end, "size: ");
    *size = s ? apr_atoi64(s + 6) : -1;
  }
  return apr_pstrmemdup(result_pool, p + strlen("digest: "), (apr_size_t)(end - p - strlen("digest: ")));
}

int dray_push_text_has(const char *text, const char *needle)
{
  apr_size_t n = strlen(needle);
  for (; *text; text++)
    if (apr_cstr_casecmpn(text, needle, n) == 0)
      return 1;
  return 0;
}
