/* test_blob.c — deterministic gzip + SHA-256 (blob.c), the tar stream
 * reader (tarstream.c) and the manifest bytes (manifest.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <apr_strings.h>
#include <jansson.h>
#include <zlib.h>

#include "dray/blob.h"
#include "dray/manifest.h"
#include "dray/ref.h"
#include "dray/strbuf.h"
#include "dray/tarstream.h"

#include "testutil.h"
#include "testtar.h"

#define PINNED_DIGEST "sha256:b995f813f7f3cb16fa5558cc3ff06c053ec5fe9af75870d14df5e909cadbc4ad"

static dray_error_t *collect(void *baton, const char *data, apr_size_t len)
{
  dray_strbuf_append(baton, data, len);
  return DRAY_NO_ERROR;
}

/* Some input that compresses, but not to nothing. */
static char *make_input(apr_size_t n, apr_pool_t *p)
{
  char *buf = apr_palloc(p, n);
  apr_uint32_t x = 12345;
  for (apr_size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (char)((i % 7 == 0) ? (int)(x >> 16) : 'a' + (int)(i % 13));
  }
  return buf;
}

/* Compress IN in pieces of STEP bytes; the blob's bytes into OUT. */
static void compress_all(dray_strbuf_t *out, const char **digest, apr_int64_t *size,
                     const char *in, apr_size_t n, apr_size_t step)
{
  dray_blob_writer_t *w;
  dray_strbuf_init(out, 0, pool);
  dray_test_no_error(dray_blob_writer_create(&w, collect, out, pool));
  for (apr_size_t at = 0; at < n; at += step)
    dray_test_no_error(dray_blob_writer_write(w, in + at, n - at < step ? n - at : step));
  assert_int_equal(dray_blob_writer_bytes_in(w), (apr_int64_t)n);
  dray_test_no_error(dray_blob_writer_finish(w, digest, size, pool));
}

static void test_same_input_same_blob(void **state)
{
  apr_size_t n = 3 * 1024 * 1024 + 17;
  char *in = make_input(n, pool);
  dray_strbuf_t a, b;
  const char *da, *db;
  apr_int64_t sa, sb;
  (void)state;

  /* However the input arrives, the same bytes and digest come out. */
  compress_all(&a, &da, &sa, in, n, n);
  compress_all(&b, &db, &sb, in, n, 4093);
  assert_string_equal(da, db);
  assert_int_equal(sa, sb);
  assert_int_equal(a.len, (apr_size_t)sa);
  assert_memory_equal(a.data, b.data, a.len);
  /* The digest is that of the bytes handed on. */
  assert_string_equal(da, dray_sha256_of(a.data, a.len, pool));
  assert_true(dray_digest_is_valid(da));
  /* A gzip header with no time, no name and "unknown" for the OS. */
  assert_int_equal((unsigned char)a.data[0], 0x1f);
  assert_int_equal((unsigned char)a.data[1], 0x8b);
  assert_int_equal(a.data[3], 0);           /* flags: no name, no comment */
  assert_memory_equal(a.data + 4, "\0\0\0\0", 4); /* mtime */
  assert_int_equal((unsigned char)a.data[9], 255);
  assert_true(sa < (apr_int64_t)n);

  /* Other input, another blob. */
  in[n / 2] ^= 1;
  compress_all(&b, &db, &sb, in, n, 65536);
  assert_string_not_equal(da, db);
}

static void test_blob_gunzips_to_input(void **state)
{
  apr_size_t n = 700 * 1024;
  char *in = make_input(n, pool);
  char *back = apr_palloc(pool, n + 16);
  dray_strbuf_t out;
  const char *d;
  apr_int64_t s;
  z_stream z;
  (void)state;

  compress_all(&out, &d, &s, in, n, 1000);
  memset(&z, 0, sizeof(z));
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = (Bytef *)out.data;
  z.avail_in = (uInt)out.len;
  z.next_out = (Bytef *)back;
  z.avail_out = (uInt)n + 16;
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, n);
  assert_int_equal(z.avail_in, 0);
  inflateEnd(&z);
  assert_memory_equal(back, in, n);
}

static void test_empty_input_and_known_digest(void **state)
{
  dray_strbuf_t out;
  const char *d;
  apr_int64_t s;
  (void)state;
  /* SHA-256 of "abc" (FIPS 180-2). */
  assert_string_equal(dray_sha256_of("abc", 3, pool),
                      "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  compress_all(&out, &d, &s, "", 0, 1);
  assert_int_equal(s, 20); /* header, an empty block, CRC and length */
  assert_string_equal(d, dray_sha256_of(out.data, out.len, pool));
}

/* Bytes deflate cannot shrink (an LCG's high bits). */
static void fill_random(char *buf, apr_size_t n, apr_uint32_t seed)
{
  for (apr_size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    buf[i] = (char)(seed >> 24);
  }
}

/* Inflate a gzip blob: the whole input back. */
static void assert_gunzips_to(const dray_strbuf_t *blob, const char *in, apr_size_t n)
{
  char *back = apr_palloc(pool, n + 16);
  z_stream z;
  memset(&z, 0, sizeof(z));
  assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
  z.next_in = (Bytef *)blob->data;
  z.avail_in = (uInt)blob->len;
  z.next_out = (Bytef *)back;
  z.avail_out = (uInt)n + 16;
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  assert_int_equal(z.total_out, n);
  inflateEnd(&z);
  assert_memory_equal(back, in, n);
}

static void test_incompressible_segments_stored(void **state)
{
  /* Segments 0, 2 and 4 compress; 1 and 3 are random; a random tail. */
  apr_size_t seg = DRAY_BLOB_SEGMENT, n = 5 * seg + seg / 3;
  char *in = make_input(n, pool);
  dray_strbuf_t a, b, c;
  const char *da, *db, *dc;
  apr_int64_t sa, sb, sc;
  dray_blob_writer_t *w;
  dray_strbuf_t out;
  const char *d;
  apr_int64_t s;
  (void)state;

  fill_random(in + seg, seg, 1);
  fill_random(in + 3 * seg, seg, 2);
  fill_random(in + 5 * seg, n - 5 * seg, 3);

  /* Which segments are stored depends on the bytes, not on the pieces. */
  compress_all(&a, &da, &sa, in, n, n);
  compress_all(&b, &db, &sb, in, n, 4093);
  compress_all(&c, &dc, &sc, in, n, seg);
  assert_string_equal(da, db);
  assert_string_equal(da, dc);
  assert_memory_equal(a.data, b.data, a.len);
  assert_gunzips_to(&a, in, n);

  dray_strbuf_init(&out, 0, pool);
  dray_test_no_error(dray_blob_writer_create(&w, collect, &out, pool));
  dray_test_no_error(dray_blob_writer_write(w, in, n));
  dray_test_no_error(dray_blob_writer_finish(w, &d, &s, pool));
  assert_string_equal(d, da);
  /* The random segments and the random tail were stored... */
  assert_int_equal(dray_blob_writer_bytes_stored(w), (apr_int64_t)(2 * seg + (n - 5 * seg)));
  /* ... at a few bytes per 64 KiB block; the others shrank. */
  assert_true(s < (apr_int64_t)(2 * seg + (n - 5 * seg)) + (apr_int64_t)(3 * seg) * 3 / 4);

  /* All random: stored whole, barely larger than the input. */
  fill_random(in, n, 4);
  compress_all(&a, &da, &sa, in, n, 65536);
  assert_true(sa >= (apr_int64_t)n && sa < (apr_int64_t)n + (apr_int64_t)(n / 1000) + 64);
  assert_gunzips_to(&a, in, n);
}

static void test_blob_format_pinned(void **state)
{
  /* The blob format is what makes reruns and other images dedupe against
   * the registry: a change of segment size, output buffer, level or
   * sampling shows here (change the digest on purpose, with a note). */
  apr_size_t seg = DRAY_BLOB_SEGMENT, n = 2 * seg + 1000;
  char *in = make_input(n, pool);
  dray_strbuf_t a;
  const char *da;
  apr_int64_t sa;
  (void)state;
  fill_random(in + seg, seg, 7);
  compress_all(&a, &da, &sa, in, n, 100000);
  assert_string_equal(da, PINNED_DIGEST);
  assert_int_equal(sa, 1364925);
}

/* ---- tar ---------------------------------------------------------------- */

typedef struct seen_t {
  dray_strbuf_t log;
  int skip_b;
} seen_t;

static dray_error_t *on_begin(void *baton, const char *name, apr_int64_t size, int *want)
{
  seen_t *s = baton;
  *want = !(s->skip_b && !strcmp(name, "b.json"));
  dray_strbuf_appendf(&s->log, "[%s %d%s]", name, (int)size, *want ? "" : " skipped");
  return DRAY_NO_ERROR;
}

static dray_error_t *on_data(void *baton, const char *data, apr_size_t len)
{
  seen_t *s = baton;
  dray_strbuf_append(&s->log, data, len);
  return DRAY_NO_ERROR;
}

static dray_error_t *on_end(void *baton)
{
  seen_t *s = baton;
  dray_strbuf_append(&s->log, "|", 1);
  return DRAY_NO_ERROR;
}

static const char *read_tar(const dray_strbuf_t *t, apr_size_t step, int skip_b, int *done)
{
  seen_t s;
  dray_tar_handler_t h = {on_begin, on_data, on_end, &s};
  dray_tarstream_t *ts = dray_tarstream_create(&h, pool);
  s.skip_b = skip_b;
  dray_strbuf_init(&s.log, 0, pool);
  for (apr_size_t at = 0; at < t->len; at += step)
    dray_test_no_error(dray_tarstream_feed(ts, t->data + at, t->len - at < step ? t->len - at : step));
  *done = dray_tarstream_done(ts);
  return s.log.data;
}

static void test_tar_stream(void **state)
{
  static const char zeros[1024];
  char big[1500];
  const char *want, *pax = "30 path=blobs/sha256/abcdef01\n";
  dray_strbuf_t t;
  int done;
  (void)state;

  memset(big, 'x', sizeof(big));
  big[0] = 'B';
  big[sizeof(big) - 1] = 'E';
  dray_strbuf_init(&t, 0, pool);
  testtar_file(&t, "abc", '5', "", 0, NULL);                 /* a folder: no callback */
  testtar_file(&t, "layer.tar", '0', big, sizeof(big), "abc");
  testtar_file(&t, "b.json", '0', "{\"b\":1}", 7, NULL);
  testtar_file(&t, "link", '2', "", 0, NULL);
  testtar_file(&t, "././@LongLink", 'L', "a-very-long-name.json", 22, NULL);
  testtar_file(&t, "a-very-lo", '0', "L", 1, NULL);
  testtar_file(&t, "PaxHeaders/x", 'x', pax, strlen(pax), NULL);
  testtar_file(&t, "short", '0', "", 0, NULL);
  dray_strbuf_append(&t, zeros, sizeof(zeros));
  dray_strbuf_append(&t, zeros, 512); /* padding after the end is fine */

  want = apr_psprintf(pool, "[abc/layer.tar 1500]%.*s|[b.json 7]{\"b\":1}|"
                      "[a-very-long-name.json 1]L|[blobs/sha256/abcdef01 0]|",
                      (int)sizeof(big), big);
  /* Whole, byte by byte and in odd pieces: the same entries. */
  assert_string_equal(read_tar(&t, t.len, 0, &done), want);
  assert_true(done);
  assert_string_equal(read_tar(&t, 1, 0, &done), want);
  assert_true(done);
  assert_string_equal(read_tar(&t, 511, 0, &done), want);
  /* A skipped entry's data is not handed on. */
  assert_non_null(strstr(read_tar(&t, 100, 1, &done), "[b.json 7 skipped][a-very-long"));
  /* Not yet at the end. */
  dray_strbuf_truncate(&t, t.len - 1024);
  read_tar(&t, 512, 0, &done);
  assert_false(done);
}

static void test_tar_bad_header(void **state)
{
  dray_strbuf_t t;
  dray_tar_handler_t h = {NULL, NULL, NULL, NULL};
  dray_tarstream_t *ts = dray_tarstream_create(&h, pool);
  dray_error_t *err;
  (void)state;
  dray_strbuf_init(&t, 0, pool);
  testtar_file(&t, "a", '0', "x", 1, NULL);
  t.data[148] = '9'; /* the checksum no longer adds up */
  err = dray_tarstream_feed(ts, t.data, t.len);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_PROTOCOL);
  dray_error_clear(err);
}

/* ---- manifest ----------------------------------------------------------- */

static void test_manifest(void **state)
{
  dray_image_blobs_t blobs;
  dray_image_layer_t *l;
  dray_manifest_t m, again;
  json_t *root, *layers;
  const char *config = "{\"architecture\":\"amd64\"}";
  (void)state;

  memset(&blobs, 0, sizeof(blobs));
  blobs.config = config;
  blobs.config_len = strlen(config);
  blobs.id = dray_sha256_of(config, strlen(config), pool);
  blobs.layers = apr_array_make(pool, 2, sizeof(dray_image_layer_t));
  l = apr_array_push(blobs.layers);
  l->digest = dray_sha256_of("1", 1, pool);
  l->size = 1234567890123LL;
  l = apr_array_push(blobs.layers);
  l->digest = dray_sha256_of("2", 1, pool);
  l->size = 2;

  dray_manifest_build(&m, &blobs, pool);
  dray_manifest_build(&again, &blobs, pool);
  assert_int_equal(m.len, again.len);
  assert_memory_equal(m.body, again.body, m.len);
  assert_string_equal(m.digest, dray_sha256_of(m.body, m.len, pool));

  root = json_loadb(m.body, m.len, 0, NULL);
  assert_non_null(root);
  assert_int_equal(json_integer_value(json_object_get(root, "schemaVersion")), 2);
  assert_string_equal(json_string_value(json_object_get(root, "mediaType")),
                      "application/vnd.docker.distribution.manifest.v2+json");
  assert_string_equal(json_string_value(json_object_get(json_object_get(root, "config"), "digest")),
                      blobs.id);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "config"), "size")),
                   strlen(config));
  layers = json_object_get(root, "layers");
  assert_int_equal(json_array_size(layers), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(layers, 0), "size")),
                   1234567890123LL);
  assert_string_equal(json_string_value(json_object_get(json_array_get(layers, 1), "digest")),
                      l->digest);
  assert_string_equal(json_string_value(json_object_get(json_array_get(layers, 1), "mediaType")),
                      "application/vnd.docker.image.rootfs.diff.tar.gzip");
  assert_string_equal(m.media_type, "application/vnd.docker.distribution.manifest.v2+json");
  json_decref(root);

  /* An OCI image (podman's): the same manifest but for its media types. */
  blobs.manifest_kind = DRAY_IMAGE_MANIFEST_OCI;
  dray_manifest_build(&again, &blobs, pool);
  assert_string_equal(again.media_type, "application/vnd.oci.image.manifest.v1+json");
  assert_string_not_equal(again.digest, m.digest);
  root = json_loadb(again.body, again.len, 0, NULL);
  assert_non_null(root);
  assert_string_equal(json_string_value(json_object_get(root, "mediaType")),
                      "application/vnd.oci.image.manifest.v1+json");
  assert_string_equal(json_string_value(json_object_get(json_object_get(root, "config"), "mediaType")),
                      "application/vnd.oci.image.config.v1+json");
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(root, "layers"), 0),
                                                        "mediaType")),
                      "application/vnd.oci.image.layer.v1.tar+gzip");
  assert_string_equal(json_string_value(json_object_get(json_object_get(root, "config"), "digest")),
                      blobs.id);
  json_decref(root);
  blobs.manifest_kind = DRAY_IMAGE_MANIFEST_DOCKER;

  /* No layers: still valid JSON. */
  blobs.layers->nelts = 0;
  dray_manifest_build(&m, &blobs, pool);
  root = json_loadb(m.body, m.len, 0, NULL);
  assert_non_null(root);
  assert_int_equal(json_array_size(json_object_get(root, "layers")), 0);
  json_decref(root);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_input_same_blob),
      cmocka_unit_test(test_blob_gunzips_to_input),
      cmocka_unit_test(test_empty_input_and_known_digest),
      cmocka_unit_test(test_incompressible_segments_stored),
      cmocka_unit_test(test_blob_format_pinned),
      cmocka_unit_test(test_tar_stream),
      cmocka_unit_test(test_tar_bad_header),
      cmocka_unit_test(test_manifest),
  };
  apr_initialize();
  return cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
}
