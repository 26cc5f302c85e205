/* text.c — peer text made safe for a terminal. */
#include "dray/text.h"

#include <string.h>

static int is_control(const unsigned char *c)
{
  return *c < 0x20 || *c == 0x7f || (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f);
}

const char *dray_text_printable(const char *s, apr_pool_t *result_pool)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *c;
  apr_size_t n = 0, escapes = 0;
  char *out, *o;

  if (!s)
    return s;
  for (c = (const unsigned char *)s; *c; c++, n++)
    if (is_control(c))
      escapes++;
  if (!escapes)
    return s;
  out = o = apr_palloc(result_pool, 4 * n + 1);
  for (c = (const unsigned char *)s; *c; c++) {
    if (is_control(c)) {
      unsigned char b = *c;
      if (b == 0xc2) /* the C1 character is the next byte */
        b = *++c;
      *o++ = '\\';
      *o++ = 'x';
      *o++ = hex[b >> 4];
      *o++ = hex[b & 15];
    } else if (*c == '\\') {
      *o++ = '\\';
      *o++ = '\\';
    } else {
      *o++ = (char)*c;
    }
  }
  *o = '\0';
  return out;
}
