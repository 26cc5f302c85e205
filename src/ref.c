/* ref.c — image references after github.com/distribution/reference.
 *
 * The grammar is regular and small, so it is checked by hand with one scanner
 * per production; that also lets every error say which part is wrong.
 */
#include "dray/ref.h"

#include <string.h>

#include <apr_strings.h>

static int is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
  return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
  return is_alnum(c) || c == '_';
}

static int is_upper(char c)
{
  return c >= 'A' && c <= 'Z';
}

static int is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int has_upper(const char *s, apr_size_t len)
{
  apr_size_t i;
  for (i = 0; i < len; i++)
    if (is_upper(s[i]))
      return 1;
  return 0;
}

/* [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*, optionally ignoring case. */
static int component_ok(const char *s, apr_size_t len, int fold)
{
  apr_size_t i = 0;
  for (;;) {
    apr_size_t start = i;
    while (i < len && (is_lower_alnum(s[i]) || (fold && is_upper(s[i]))))
      i++;
    if (i == start)
      return 0;
    if (i == len)
      return 1;
    if (s[i] == '.')
      i++;
    else if (s[i] == '_')
      i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
    else if (s[i] == '-')
      while (i < len && s[i] == '-')
        i++;
    else
      return 0;
    if (i == len) /* a separator must be followed by a letter or digit */
      return 0;
  }
}

/* Why the path S[0..LEN) is not valid, or NULL. */
static const char *path_problem(const char *s, apr_size_t len, apr_pool_t *pool)
{
  apr_size_t start = 0, i;
  int upper = 0;

  if (len == 0)
    return "repository name must have at least one component";
  for (i = 0; i <= len; i++) {
    if (i < len && s[i] != '/')
      continue;
    if (i == start)
      return "empty path component (\"//\" or a leading or trailing \"/\")";
    if (!component_ok(s + start, i - start, 0)) {
      /* Uppercase is the common mistake; say so when it is the only one. */
      if (has_upper(s + start, i - start) && component_ok(s + start, i - start, 1))
        upper = 1;
      else
        return apr_psprintf(pool,
                            "invalid path component \"%.*s\" (allowed: a-z, 0-9, "
                            "separated by \".\", \"_\", \"__\" or \"-\")",
                            (int)(i - start), s + start);
    }
    start = i + 1;
  }
  return upper ? "repository name must be lowercase" : NULL;
}

/* host (domain components or [ipv6]) with an optional :port. */
static int domain_ok(const char *s, apr_size_t len)
{
  apr_size_t i = 0;

  if (len == 0)
    return 0;
  if (s[0] == '[') {
    apr_size_t start = ++i;
    while (i < len && (is_hex(s[i]) || s[i] == ':'))
      i++;
    if (i == start || i == len || s[i] != ']')
      return 0;
    i++;
  } else {
    for (;;) {
      apr_size_t start = i;
      while (i < len && (is_alnum(s[i]) || s[i] == '-'))
        i++;
      if (i == start || s[start] == '-' || s[i - 1] == '-')
        return 0;
      if (i < len && s[i] == '.') {
        i++;
        continue;
      }
      break;
    }
  }
  if (i == len)
    return 1;
  if (s[i] != ':' || ++i == len)
    return 0;
  for (; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* Docker's rule for whether the first component names a registry. */
static int looks_like_domain(const char *s, apr_size_t len)
{
  return memchr(s, '.', len) || memchr(s, ':', len)
         || (len == 9 && memcmp(s, "localhost", 9) == 0) || has_upper(s, len);
}

int dray_ref_is_valid_tag(const char *tag)
{
  apr_size_t i, len = strlen(tag);
  if (len == 0 || len > DRAY_REF_TAG_MAX || !is_word(tag[0]))
    return 0;
  for (i = 1; i < len; i++)
    if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
      return 0;
  return 1;
}

/* Why DIGEST is not acceptable, or NULL. Known algorithms as go-digest. */
static const char *digest_problem(const char *digest, apr_pool_t *pool)
{
  const char *colon = strchr(digest, ':');
  const char *hex;
  apr_size_t alen, hlen, i, want = 0;
  int sep = 1;

  if (!colon)
    return "invalid digest format (want ALGORITHM:HEX)";
  alen = (apr_size_t)(colon - digest);
  for (i = 0; i < alen; i++) {
    char c = digest[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      sep = 0;
    else if (c >= '0' && c <= '9' && !sep)
      ;
    else if (!sep && (c == '-' || c == '_' || c == '+' || c == '.'))
      sep = 1;
    else
      return "invalid digest format: bad algorithm";
  }
  if (alen == 0 || sep)
    return "invalid digest format: bad algorithm";
  hex = colon + 1;
  hlen = strlen(hex);
  if (alen == 6 && memcmp(digest, "sha256", 6) == 0)
    want = 64;
  else if (alen == 6 && memcmp(digest, "sha384", 6) == 0)
    want = 96;
  else if (alen == 6 && memcmp(digest, "sha512", 6) == 0)
    want = 128;
  else
    return apr_psprintf(pool, "unsupported digest algorithm \"%.*s\"", (int)alen, digest);
  if (hlen != want)
    return apr_psprintf(pool, "invalid digest format: %.*s needs %d hex digits, got %d",
                        (int)alen, digest, (int)want, (int)hlen);
  for (i = 0; i < hlen; i++)
    if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
      return "invalid digest format: the hex part must be lowercase hexadecimal";
  return NULL;
}

/* Split NAME[0..LEN) into domain and path; return a reason or NULL. */
static const char *split_name(const char **domain, const char **path, const char *name,
                              apr_size_t len, apr_pool_t *pool)
{
  const char *slash = memchr(name, '/', len);
  const char *problem;
  apr_size_t plen = len;

  *domain = NULL;
  if (len == 0)
    return "repository name must have at least one component";
  if (slash && looks_like_domain(name, (apr_size_t)(slash - name))) {
    apr_size_t dlen = (apr_size_t)(slash - name);
    if (!domain_ok(name, dlen))
      return apr_psprintf(pool, "invalid registry domain \"%.*s\"", (int)dlen, name);
    *domain = apr_pstrmemdup(pool, name, dlen);
    plen = len - dlen - 1;
    name = slash + 1;
  }
  problem = path_problem(name, plen, pool);
  if (problem)
    return problem;
  if (len > DRAY_REF_NAME_MAX)
    return apr_psprintf(pool, "repository name must not be more than %d characters",
                        DRAY_REF_NAME_MAX);
  *path = apr_pstrmemdup(pool, name, plen);
  return NULL;
}

dray_error_t *dray_ref_parse(dray_ref_t **ref_p, const char *s, apr_pool_t *result_pool)
{
  dray_ref_t *ref = apr_pcalloc(result_pool, sizeof(*ref));
  const char *at = strchr(s, '@');
  const char *slash, *colon, *problem = NULL;
  apr_size_t len = at ? (apr_size_t)(at - s) : strlen(s);

  if (at) {
    problem = digest_problem(at + 1, result_pool);
    if (problem)
      goto bad;
    ref->digest = apr_pstrdup(result_pool, at + 1);
  }

  /* A ":" after the last "/" starts the tag; one before it is a port. */
  colon = NULL;
  slash = NULL;
  {
    apr_size_t i;
    for (i = 0; i < len; i++) {
      if (s[i] == '/')
        slash = s + i;
      else if (s[i] == ':')
        colon = s + i;
    }
  }
  if (colon && (!slash || colon > slash)) {
    const char *tag = apr_pstrmemdup(result_pool, colon + 1, (apr_size_t)(s + len - colon - 1));
    if (!dray_ref_is_valid_tag(tag)) {
      problem = apr_psprintf(result_pool,
                             "invalid tag \"%s\" (allowed: up to %d of A-Z a-z 0-9 _ . -, "
                             "not starting with . or -)",
                             tag, DRAY_REF_TAG_MAX);
      goto bad;
    }
    ref->tag = tag;
    len = (apr_size_t)(colon - s);
  }

  problem = split_name(&ref->domain, &ref->path, s, len, result_pool);
  if (problem)
    goto bad;
  ref->name = apr_pstrmemdup(result_pool, s, len);
  *ref_p = ref;
  return DRAY_NO_ERROR;

bad:
  return dray_error_createf(DRAY_ERR_INPUT, NULL, "invalid reference \"%s\": %s", s, problem);
}

int dray_ref_is_valid_name(const char *name)
{
  const char *domain, *path, *slash = strrchr(name, '/');
  const char *colon = strrchr(name, ':');
  apr_pool_t *pool;
  int ok;

  /* A ":" after the last "/" would be a tag, an "@" a digest. */
  if (strchr(name, '@') || (colon && (!slash || colon > slash)))
    return 0;
  if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
    return 0;
  ok = split_name(&domain, &path, name, strlen(name), pool) == NULL;
  apr_pool_destroy(pool);
  return ok;
}

const char *dray_ref_path_problem(const char *path, apr_pool_t *result_pool)
{
  const char *problem = path_problem(path, strlen(path), result_pool);
  if (!problem && strlen(path) > DRAY_REF_NAME_MAX)
    problem = apr_psprintf(result_pool, "repository name must not be more than %d characters",
                           DRAY_REF_NAME_MAX);
  return problem;
}

int dray_ref_is_valid_path(const char *path)
{
  apr_pool_t *pool;
  int ok;
  if (apr_pool_create(&pool, NULL) != APR_SUCCESS)
    return 0;
  ok = dray_ref_path_problem(path, pool) == NULL;
  apr_pool_destroy(pool);
  return ok;
}

dray_error_t *dray_ref_check_registry(const char **normalized, const char *registry,
                                      apr_pool_t *result_pool)
{
  apr_size_t len = strlen(registry);
  const char *prefix, *domain, *path, *problem, *slash;

  while (len > 0 && registry[len - 1] == '/')
    len--;
  prefix = apr_pstrmemdup(result_pool, registry, len);
  if (len == 0)
    return dray_error_createf(DRAY_ERR_INPUT, NULL, "invalid registry \"%s\": empty", registry);
  if (strchr(prefix, '@'))
    return dray_error_createf(DRAY_ERR_INPUT, NULL,
                              "invalid registry \"%s\": want HOST[:PORT][/NAMESPACE]", registry);

  /* The host alone may be anything a domain may be, even without a "/"
   * after it; the rest must be path components. */
  slash = strchr(prefix, '/');
  if (!slash && (strchr(prefix, '.') || strchr(prefix, ':') || strcmp(prefix, "localhost") == 0
                 || has_upper(prefix, len))) {
    if (!domain_ok(prefix, len))
      return dray_error_createf(DRAY_ERR_INPUT, NULL,
                                "invalid registry \"%s\": want HOST[:PORT][/NAMESPACE]",
                                registry);
  } else {
    /* Check as a name with one more component, which is what it prefixes. */
    const char *probe = apr_pstrcat(result_pool, prefix, "/x", NULL);
    problem = split_name(&domain, &path, probe, strlen(probe), result_pool);
    if (problem)
      return dray_error_createf(DRAY_ERR_INPUT, NULL, "invalid registry \"%s\": %s", registry,
                                problem);
  }
  if (normalized)
    *normalized = prefix;
  return DRAY_NO_ERROR;
}

const char *dray_ref_join(const char *prefix, const char *name, apr_pool_t *result_pool)
{
  apr_size_t len;
  if (!prefix || !*prefix)
    return apr_pstrdup(result_pool, name);
  len = strlen(prefix);
  while (len > 0 && prefix[len - 1] == '/')
    len--;
  return apr_psprintf(result_pool, "%.*s/%s", (int)len, prefix, name);
}

const char *dray_ref_normalized_name(const dray_ref_t *ref, apr_pool_t *result_pool)
{
  const char *domain = ref->domain;
  if (!domain || strcmp(domain, "index.docker.io") == 0 || strcmp(domain, "docker.io") == 0) {
    if (!strchr(ref->path, '/'))
      return apr_pstrcat(result_pool, "docker.io/library/", ref->path, NULL);
    return apr_pstrcat(result_pool, "docker.io/", ref->path, NULL);
  }
  return apr_pstrcat(result_pool, domain, "/", ref->path, NULL);
}

const char *dray_ref_string(const dray_ref_t *ref, apr_pool_t *result_pool)
{
  return apr_pstrcat(result_pool, ref->name, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                     ref->digest ? "@" : "", ref->digest ? ref->digest : "", NULL);
}
