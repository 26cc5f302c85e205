/* tarstream.c — a push parser for tar streams. */
#include "dray/tarstream.h"

#include <string.h>

#include <apr_strings.h>

typedef enum {
  TS_HEADER,                  /* collecting a 512-byte header */
  TS_DATA,                    /* inside a regular file's data */
  TS_SKIP,                    /* inside data nobody wants */
  TS_LONGNAME,                /* inside a GNU 'L' or a pax 'x' record */
  TS_PAD,                     /* the padding to the next 512-byte block */
  TS_END
} ts_state_t;

struct dray_tarstream_t {
  dray_tar_handler_t h;
  ts_state_t state;
  char block[512];
  apr_size_t have;            /* bytes of BLOCK read */
  apr_int64_t left;           /* bytes left in the data / record */
  apr_size_t pad;             /* padding left */
  int zero_blocks;
  char meta_type;             /* 'L' or 'x' while in TS_LONGNAME */
  char meta[DRAY_TAR_NAME_MAX * 4]; /* the record (cut at its size) */
  apr_size_t meta_len;
  char next_name[DRAY_TAR_NAME_MAX + 1]; /* from 'L' or pax, for the next entry */
};

dray_tarstream_t *dray_tarstream_create(const dray_tar_handler_t *handler,
                                        apr_pool_t *result_pool)
{
  dray_tarstream_t *ts = apr_pcalloc(result_pool, sizeof(*ts));
  ts->h = *handler;
  ts->state = TS_HEADER;
  return ts;
}

int dray_tarstream_done(const dray_tarstream_t *ts)
{
  return ts->state == TS_END;
}

/* A numeric field: octal text, or base-256 when its top bit is set. */
static int parse_number(const char *field, apr_size_t len, apr_int64_t *out)
{
  const unsigned char *p = (const unsigned char *)field;
  apr_int64_t v = 0;
  apr_size_t i = 0;

  if (p[0] & 0x80) {
    if (p[0] & 0x40)
      return 0; /* negative */
    v = p[0] & 0x3f;
    for (i = 1; i < len; i++) {
      if (v > (APR_INT64_MAX >> 8))
        return 0;
      v = (v << 8) | p[i];
    }
    *out = v;
    return 1;
  }
  while (i < len && (p[i] == ' ' || p[i] == '\0'))
    i++;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
    if (v > (APR_INT64_MAX >> 3))
      return 0;
    v = v * 8 + (p[i] - '0');
  }
  for (; i < len; i++)
    if (p[i] != ' ' && p[i] != '\0')
      return 0;
  *out = v;
  return 1;
}

static int checksum_ok(const char *b)
{
  apr_int64_t want;
  long sum = 0;
  if (!parse_number(b + 148, 8, &want))
    return 0;
  for (int i = 0; i < 512; i++)
    sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)b[i];
  return sum == want;
}

static void set_pad(dray_tarstream_t *ts, apr_int64_t size)
{
  ts->pad = (apr_size_t)((512 - size % 512) % 512);
}

/* The "path" record of a pax header, if any, becomes the next name.
 * Records are "LEN path=VALUE\n", LEN counting the whole record. */
static void pax_path(dray_tarstream_t *ts)
{
  const char *p = ts->meta, *end = ts->meta + ts->meta_len;
  while (p < end) {
    const char *sp = memchr(p, ' ', (apr_size_t)(end - p));
    apr_int64_t reclen = 0;
    const char *rec_end, *eq;
    if (!sp)
      return;
    for (const char *q = p; q < sp; q++) {
      if (*q < '0' || *q > '9')
        return;
      reclen = reclen * 10 + (*q - '0');
      if (reclen > end - p)
        return; /* longer than what is there (and no overflow) */
    }
    rec_end = p + reclen;
    if (rec_end <= sp + 1 || rec_end[-1] != '\n')
      return;
    eq = memchr(sp + 1, '=', (apr_size_t)(rec_end - sp - 1));
    if (eq && eq - sp - 1 == 4 && !memcmp(sp + 1, "path", 4)) {
      apr_size_t n = (apr_size_t)(rec_end - 1 - (eq + 1)); /* without the '\n' */
      if (n > DRAY_TAR_NAME_MAX)
        n = DRAY_TAR_NAME_MAX;
      memcpy(ts->next_name, eq + 1, n);
      ts->next_name[n] = '\0';
    }
    p = rec_end;
  }
}

static dray_error_t *on_header(dray_tarstream_t *ts)
{
  const char *b = ts->block;
  char type = b[156];
  apr_int64_t size;
  char name[DRAY_TAR_NAME_MAX + 1];
  int want = 0;

  if (!b[0]) {
    int zero = 1;
    for (int i = 0; i < 512 && zero; i++)
      zero = b[i] == 0;
    if (zero) {
      if (++ts->zero_blocks == 2)
        ts->state = TS_END;
      return DRAY_NO_ERROR;
    }
  }
  ts->zero_blocks = 0;
  if (!checksum_ok(b) || !parse_number(b + 124, 12, &size))
    return dray_error_create(DRAY_ERR_PROTOCOL, NULL,
                             "the image's tar stream has a malformed header");
  if (type == 'L' || type == 'x' || type == 'g') {
    ts->state = TS_LONGNAME;
    ts->meta_type = type;
    ts->meta_len = 0;
    ts->left = size;
    set_pad(ts, size);
    return DRAY_NO_ERROR;
  }
  if (ts->next_name[0]) {
    apr_cpystrn(name, ts->next_name, sizeof(name));
    ts->next_name[0] = '\0';
  }
  else if (!memcmp(b + 257, "ustar", 5) && b[345]) {
    apr_snprintf(name, sizeof(name), "%.155s/%.100s", b + 345, b);
  }
  else
    apr_snprintf(name, sizeof(name), "%.100s", b);

  set_pad(ts, size);
  ts->left = size;
  if ((type == '0' || type == '\0' || type == '7') && ts->h.begin)
    DRAY_ERR(ts->h.begin(ts->h.baton, name, size, &want));
  else if (type == '1' || type == '2' || type == '5')
    size = ts->left = 0; /* links and folders have no data */
  ts->state = want ? TS_DATA : TS_SKIP;
  if (want && size == 0) {
    ts->state = TS_PAD;
    if (ts->h.end)
      DRAY_ERR(ts->h.end(ts->h.baton));
  }
  else if (size == 0)
    ts->state = TS_PAD;
  return DRAY_NO_ERROR;
}

dray_error_t *dray_tarstream_feed(dray_tarstream_t *ts, const char *data, apr_size_t len)
{
  while (len) {
    apr_size_t take;
    switch (ts->state) {
    case TS_END:
      return DRAY_NO_ERROR; /* what follows the end is padding */
    case TS_HEADER:
      take = 512 - ts->have < len ? 512 - ts->have : len;
      memcpy(ts->block + ts->have, data, take);
      ts->have += take;
      data += take;
      len -= take;
      if (ts->have == 512) {
        ts->have = 0;
        DRAY_ERR(on_header(ts));
      }
      break;
    case TS_DATA:
    case TS_SKIP:
    case TS_LONGNAME:
      take = (apr_int64_t)len < ts->left ? len : (apr_size_t)ts->left;
      if (ts->state == TS_DATA && ts->h.data)
        DRAY_ERR(ts->h.data(ts->h.baton, data, take));
      else if (ts->state == TS_LONGNAME) {
        apr_size_t room = sizeof(ts->meta) - ts->meta_len;
        apr_size_t keep = take < room ? take : room;
        memcpy(ts->meta + ts->meta_len, data, keep);
        ts->meta_len += keep;
      }
      ts->left -= (apr_int64_t)take;
      data += take;
      len -= take;
      if (ts->left == 0) {
        if (ts->state == TS_DATA && ts->h.end)
          DRAY_ERR(ts->h.end(ts->h.baton));
        else if (ts->state == TS_LONGNAME && ts->meta_type == 'L') {
          apr_size_t n = ts->meta_len > DRAY_TAR_NAME_MAX ? DRAY_TAR_NAME_MAX : ts->meta_len;
          memcpy(ts->next_name, ts->meta, n);
          ts->next_name[n] = '\0'; /* the record's own NUL ends it earlier */
        }
        else if (ts->state == TS_LONGNAME && ts->meta_type == 'x')
          pax_path(ts);
        ts->state = TS_PAD;
      }
      break;
    case TS_PAD:
      take = ts->pad < len ? ts->pad : len;
      ts->pad -= take;
      data += take;
      len -= take;
      break;
    }
    if (ts->state == TS_PAD && ts->pad == 0)
      ts->state = TS_HEADER;
  }
  if (ts->state == TS_PAD && ts->pad == 0)
    ts->state = TS_HEADER;
  return DRAY_NO_ERROR;
}
