/* test_ref.c — reference grammar: valid and invalid references, reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "dray/ref.h"
#include "dray/text.h"

#include "testutil.h"


static dray_ref_t *parse_ok(const char *s)
{
  dray_ref_t *ref = NULL;
  dray_error_t *err = dray_ref_parse(&ref, s, pool);
  if (err) {
    print_error("unexpected error for \"%s\": %s\n", s, dray_error_format(err, pool));
    dray_error_clear(err);
    fail();
  }
  return ref;
}

/* The error message for S, which must be invalid. */
static const char *parse_bad(const char *s)
{
  dray_ref_t *ref = NULL;
  dray_error_t *err = dray_ref_parse(&ref, s, pool);
  const char *msg;
  if (!err) {
    print_error("\"%s\" parsed but should not\n", s);
    fail();
  }
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  msg = apr_pstrdup(pool, dray_error_format(err, pool));
  dray_error_clear(err);
  assert_non_null(strstr(msg, apr_psprintf(pool, "invalid reference \"%s\"", s)));
  return msg;
}

#define assert_str_or_null(a, b) \
  do { if ((b) == NULL) assert_null(a); else assert_string_equal((a), (b)); } while (0)

static void check(const char *s, const char *domain, const char *path, const char *tag,
                  const char *digest)
{
  dray_ref_t *ref = parse_ok(s);
  assert_str_or_null(ref->domain, domain);
  assert_string_equal(ref->path, path);
  assert_str_or_null(ref->tag, tag);
  assert_str_or_null(ref->digest, digest);
  assert_string_equal(dray_ref_string(ref, pool), s);
}

#define SHA "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_valid(void **state)
{
  (void)state;
  check("busybox", NULL, "busybox", NULL, NULL);
  check("busybox:1.36", NULL, "busybox", "1.36", NULL);
  check("library/busybox:latest", NULL, "library/busybox", "latest", NULL);
  check("foo/bar/baz", NULL, "foo/bar/baz", NULL, NULL);
  check("localhost/foo", "localhost", "foo", NULL, NULL);
  check("localhost:5000/ns/web:v1", "localhost:5000", "ns/web", "v1", NULL);
  check("registry.example.com/a/b", "registry.example.com", "a/b", NULL, NULL);
  check("my-registry.example.com:443/x", "my-registry.example.com:443", "x", NULL, NULL);
  check("[::1]:5000/foo", "[::1]:5000", "foo", NULL, NULL);
  check("[2001:db8::1]/foo:tag", "[2001:db8::1]", "foo", "tag", NULL);
  check("Example.COM/foo", "Example.COM", "foo", NULL, NULL);
  check("UpperHost/foo", "UpperHost", "foo", NULL, NULL); /* uppercase: a domain */
  check("a.b-c--d/g", "a.b-c--d", "g", NULL, NULL);
  check("a_b__c-d---f/g.h", NULL, "a_b__c-d---f/g.h", NULL, NULL);
  check("busybox@" SHA, NULL, "busybox", NULL, SHA);
  check("busybox:1@" SHA, NULL, "busybox", "1", SHA);
  check("localhost:5000", NULL, "localhost", "5000", NULL); /* as docker reads it */
  check("x:_under", NULL, "x", "_under", NULL);
  check("0/1", NULL, "0/1", NULL, NULL);
}

static void test_invalid(void **state)
{
  const char *m;
  (void)state;

  m = parse_bad("");
  assert_non_null(strstr(m, "at least one component"));
  m = parse_bad("Busybox");
  assert_non_null(strstr(m, "repository name must be lowercase"));
  m = parse_bad("foo/Bar");
  assert_non_null(strstr(m, "repository name must be lowercase"));
  m = parse_bad("localhost:5000/Foo:tag");
  assert_non_null(strstr(m, "must be lowercase"));
  m = parse_bad("foo:");
  assert_non_null(strstr(m, "invalid tag"));
  m = parse_bad("foo:.x");
  assert_non_null(strstr(m, "invalid tag \".x\""));
  m = parse_bad("foo:-x");
  assert_non_null(strstr(m, "invalid tag"));
  m = parse_bad("foo:a/b");  /* ":" before the last "/" makes "foo:a" a domain... */
  assert_non_null(strstr(m, "invalid registry domain \"foo:a\""));
  m = parse_bad("foo_/bar");
  assert_non_null(strstr(m, "invalid path component \"foo_\""));
  parse_bad("-foo");
  parse_bad("foo-");
  parse_bad("foo..bar");
  parse_bad("foo___bar");
  parse_bad("foo.-bar");
  parse_bad("foo bar");
  m = parse_bad("foo//bar");
  assert_non_null(strstr(m, "empty path component"));
  parse_bad("foo/");
  parse_bad("/foo");
  parse_bad("localhost:5000/");
  m = parse_bad("-bad.com/foo");
  assert_non_null(strstr(m, "invalid registry domain"));
  parse_bad("bad-.com/foo");
  parse_bad("a.b_c/g"); /* "_" is fine in a path, not in a domain */
  parse_bad("host:/foo");
  parse_bad("host:50a0/foo");
  parse_bad("[::1/foo");
  parse_bad("[]:5000/foo");
  parse_bad("[zz]/foo");
  m = parse_bad("foo@sha256:abc");
  assert_non_null(strstr(m, "needs 64 hex digits"));
  m = parse_bad("foo@md5:0123456789abcdef0123456789abcdef");
  assert_non_null(strstr(m, "unsupported digest algorithm \"md5\""));
  m = parse_bad("foo@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_non_null(strstr(m, "lowercase"));
  m = parse_bad("foo@sha384:0123456789abcdef0123456789abcdef0123456789abcdef"
                "0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_non_null(strstr(m, "want sha256 or sha512"));
  parse_bad("foo@" SHA "@" SHA);
  parse_bad("foo@nocolon");
  parse_bad("foo:bar:baz");
}

static void test_lengths(void **state)
{
  char name[300], tag[200];
  const char *m;
  (void)state;

  /* 255 characters in total is the limit, domain included. */
  memset(name, 'a', sizeof(name));
  name[255] = '\0';
  parse_ok(name);
  name[256 - 1] = 'a';
  name[256] = '\0';
  m = parse_bad(name);
  assert_non_null(strstr(m, "not be more than 255"));
  memcpy(name, "example.com/", 12);
  name[255] = '\0';
  parse_ok(name);
  name[255] = 'a';
  name[256] = '\0';
  parse_bad(name);

  memset(tag, 'x', sizeof(tag));
  tag[128] = '\0';
  assert_true(dray_ref_is_valid_tag(tag));
  tag[128] = 'x';
  tag[129] = '\0';
  assert_false(dray_ref_is_valid_tag(tag));
  parse_bad(apr_pstrcat(pool, "foo:", tag, NULL));
}

static void test_predicates(void **state)
{
  (void)state;
  assert_true(dray_ref_is_valid_tag("latest"));
  assert_true(dray_ref_is_valid_tag("v1.2.3-rc_1"));
  assert_true(dray_ref_is_valid_tag("A"));
  assert_false(dray_ref_is_valid_tag(""));
  assert_false(dray_ref_is_valid_tag(".hidden"));
  assert_false(dray_ref_is_valid_tag("a+b"));
  assert_false(dray_ref_is_valid_tag("a:b"));

  assert_true(dray_ref_is_valid_name("busybox", pool));
  assert_true(dray_ref_is_valid_name("localhost:5000/ns/web", pool));
  assert_false(dray_ref_is_valid_name("busybox:latest", pool));
  assert_false(dray_ref_is_valid_name("busybox@" SHA, pool));
  assert_false(dray_ref_is_valid_name("Busybox", pool));
  assert_false(dray_ref_is_valid_name("", pool));

  assert_true(dray_ref_is_valid_path("services/web", pool));
  assert_false(dray_ref_is_valid_path("services/Web", pool));
  assert_false(dray_ref_is_valid_path("my app", pool));
  assert_false(dray_ref_is_valid_path("a//b", pool));
  assert_null(dray_ref_path_problem("a/b.c", pool));
  assert_string_equal(dray_ref_path_problem("Web", pool), "repository name must be lowercase");
  assert_non_null(strstr(dray_ref_path_problem("web app", pool), "\"web app\""));
}

static void test_registry(void **state)
{
  const char *norm = NULL;
  dray_error_t *err;
  (void)state;

  assert_null(dray_ref_check_registry(&norm, "localhost:5000", pool));
  assert_string_equal(norm, "localhost:5000");
  assert_null(dray_ref_check_registry(&norm, "localhost:5000/ns/sub/", pool));
  assert_string_equal(norm, "localhost:5000/ns/sub");
  assert_null(dray_ref_check_registry(&norm, "registry.example.com", pool));
  assert_null(dray_ref_check_registry(&norm, "[::1]:5000/team", pool));
  assert_null(dray_ref_check_registry(&norm, "myuser", pool)); /* a Docker Hub namespace */

  err = dray_ref_check_registry(&norm, "localhost:5000/Team", pool);
  assert_non_null(err);
  assert_int_equal(err->apr_err, DRAY_ERR_INPUT);
  assert_non_null(strstr(err->message, "must be lowercase"));
  dray_error_clear(err);
  err = dray_ref_check_registry(&norm, "host:port", pool);
  assert_non_null(err);
  assert_non_null(strstr(err->message, "invalid registry \"host:port\""));
  dray_error_clear(err);
  err = dray_ref_check_registry(&norm, "", pool);
  assert_non_null(err);
  dray_error_clear(err);
  err = dray_ref_check_registry(&norm, "localhost:5000/a@b", pool);
  assert_non_null(err);
  dray_error_clear(err);
  err = dray_ref_check_registry(&norm, "bad_host.com:5000", pool);
  assert_non_null(err);
  dray_error_clear(err);
}

static void test_join_and_normalize(void **state)
{
  dray_ref_t *a, *b;
  (void)state;

  assert_string_equal(dray_ref_join(NULL, "web", pool), "web");
  assert_string_equal(dray_ref_join("", "web", pool), "web");
  assert_string_equal(dray_ref_join("localhost:5000/ns/", "a/web", pool),
                      "localhost:5000/ns/a/web");

  assert_string_equal(dray_ref_normalized_name(parse_ok("busybox"), pool),
                      "docker.io/library/busybox");
  assert_string_equal(dray_ref_normalized_name(parse_ok("docker.io/library/busybox:1"), pool),
                      "docker.io/library/busybox");
  assert_string_equal(dray_ref_normalized_name(parse_ok("index.docker.io/busybox"), pool),
                      "docker.io/library/busybox");
  assert_string_equal(dray_ref_normalized_name(parse_ok("user/app"), pool), "docker.io/user/app");
  assert_string_equal(dray_ref_normalized_name(parse_ok("localhost:5000/app"), pool),
                      "localhost:5000/app");
  a = parse_ok("busybox");
  b = parse_ok("docker.io/library/busybox:latest");
  assert_string_equal(dray_ref_normalized_name(a, pool), dray_ref_normalized_name(b, pool));
  assert_string_equal(a->name, "busybox");
  assert_string_equal(b->name, "docker.io/library/busybox");
}

static void test_digest(void **state)
{
  const char *sha512 = "sha512:" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  (void)state;

  assert_true(dray_digest_is_valid(SHA));
  assert_true(dray_digest_is_valid(sha512));
  assert_false(dray_digest_is_valid(NULL));
  assert_false(dray_digest_is_valid(""));
  assert_false(dray_digest_is_valid("sha256:"));
  assert_false(dray_digest_is_valid("sha256:0123"));            /* too short */
  assert_false(dray_digest_is_valid(SHA "0"));                  /* too long */
  assert_false(dray_digest_is_valid(SHA " "));
  assert_false(dray_digest_is_valid(" " SHA));
  assert_false(dray_digest_is_valid("SHA256:0123456789abcdef0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef"));
  assert_false(dray_digest_is_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef"));       /* uppercase hex */
  assert_false(dray_digest_is_valid("sha256:0123456789abcdeg0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef"));       /* not hex */
  assert_false(dray_digest_is_valid("sha512:0123456789abcdef0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef"));       /* 64 digits for sha512 */
  assert_false(dray_digest_is_valid("md5:0123456789abcdef0123456789abcdef"));
  assert_false(dray_digest_is_valid("0123456789abcdef0123456789abcdef0123456789abcdef"
                                    "0123456789abcdef"));       /* no algorithm */

  /* parse: a prefix of a longer text, copied and terminated. */
  {
    const char *text = SHA " size: 7";
    const char *d = dray_digest_parse(text, strlen(SHA), pool);
    assert_non_null(d);
    assert_string_equal(d, SHA);
    assert_null(dray_digest_parse(text, strlen(SHA) + 1, pool));
    assert_null(dray_digest_parse(text, strlen(SHA) - 1, pool));
    assert_null(dray_digest_parse("sha256:0123", 11, pool));
    assert_null(dray_digest_parse(NULL, 0, pool));
  }

  assert_null(dray_digest_problem(SHA, strlen(SHA), pool));
  assert_non_null(strstr(dray_digest_problem("sha256:0123", 11, pool), "needs 64 hex digits, got 4"));
  assert_non_null(strstr(dray_digest_problem("nocolon", 7, pool), "ALGORITHM:HEX"));
}

/* A hostile value is quoted in a message only in part: no length is cast to
 * int for "%.*s", and the message stays short. */
static void test_long_values_quoted_in_part(void **state)
{
  apr_size_t n = 300 * 1024;
  char *s = apr_palloc(pool, n + 8);
  const char *msg;
  dray_ref_t *ref;
  dray_error_t *err;
  (void)state;

  memset(s, 'a', n);
  memcpy(s + n, "/B$/x", 6);
  s[0] = '#';
  err = dray_ref_parse(&ref, s, pool);
  assert_non_null(err);
  assert_true(strlen(err->message) < 2048);
  assert_non_null(strstr(err->message, "..."));
  dray_error_clear(err);

  memcpy(s, "sha256", 6);
  memset(s + 6, 'x', n - 6);
  s[n] = ':';
  s[n + 1] = '\0';
  msg = dray_digest_problem(s, n + 1, pool);
  assert_non_null(msg);
  assert_true(strlen(msg) < 2048);

  assert_string_equal(dray_text_excerpt("abc", 3, 200, pool), "abc");
  assert_string_equal(dray_text_excerpt("abcdef", 6, 3, pool), "abc...");
  /* Not inside a UTF-8 sequence: "\xc3\xa9" is one character. */
  assert_string_equal(dray_text_excerpt("a\xc3\xa9" "b", 4, 2, pool), "a...");
}

static void test_docker_hub(void **state)
{
  (void)state;
  assert_true(dray_ref_domain_is_docker_hub(NULL));
  assert_true(dray_ref_domain_is_docker_hub(""));
  assert_true(dray_ref_domain_is_docker_hub("docker.io"));
  assert_true(dray_ref_domain_is_docker_hub("index.docker.io"));
  assert_true(dray_ref_domain_is_docker_hub("registry-1.docker.io"));
  assert_false(dray_ref_domain_is_docker_hub("docker.io:443"));
  assert_false(dray_ref_domain_is_docker_hub("ghcr.io"));
  assert_false(dray_ref_domain_is_docker_hub("mirror.docker.io.example"));
  assert_false(dray_ref_domain_is_docker_hub("localhost:5000"));
  /* Every Hub domain normalises to docker.io. */
  assert_string_equal(dray_ref_normalized_name(parse_ok("registry-1.docker.io/busybox"), pool),
                      "docker.io/library/busybox");
}

/* Names dray makes up become valid path components, whatever the folder
 * or project they come from (a temp folder "dray-it-_x9_" once made the
 * invalid "dray-it-_x9_-app"). */
static void test_path_component(void **state)
{
  static const char *const cases[][2] = {
    {"dray-it-_x19pmc_-app", "dray-it-x19pmc-app"},
    {"my.project-web", "my.project-web"}, {"Up-_per", "Up-per"},
    {"a__b", "a__b"}, {"a___b", "a-b"}, {"a---b", "a---b"}, {"a._b", "a-b"},
    {"_lead-", "lead"}, {"x!y", "xy"}, {"a_!_b", "a__b"}, {"!!!", ""},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *got = dray_ref_path_component(cases[i][0], pool);
    assert_string_equal(got, cases[i][1]);
    if (*got && strcmp(got, "Up-per") != 0) /* capitals stay, and stay refused */
      assert_true(dray_ref_is_valid_path(got, pool));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_path_component),
    cmocka_unit_test(test_valid),
    cmocka_unit_test(test_invalid),
    cmocka_unit_test(test_lengths),
    cmocka_unit_test(test_predicates),
    cmocka_unit_test(test_registry),
    cmocka_unit_test(test_join_and_normalize),
    cmocka_unit_test(test_digest),
    cmocka_unit_test(test_docker_hub),
    cmocka_unit_test(test_long_values_quoted_in_part),
  };
  int rc;
  apr_initialize();
  rc = cmocka_run_group_tests(tests, dray_test_setup, dray_test_teardown);
  apr_terminate();
  return rc;
}
