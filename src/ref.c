/* ref.c — image references after github.com/distribution/reference.
 *
 * The grammar is regular and small, so it is checked by hand with one scanner
 * per production; that also lets every error say which part is wrong.
 */
#include "dray/ref.h"
#include "dray/text.h"

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
                            "invalid path component \"%s\" (allowed: a-z, 0-9, "
                            "separated by \".\", \"_\", \"__\" or \"-\")",
                            dray_text_excerpt(s + start, i - start, DRAY_TEXT_EXCERPT_MAX, pool));
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

typedef enum digest_check_t {
  DIGEST_OK = 0,
  DIGEST_NO_COLON,
  DIGEST_ALGORITHM,
  DIGEST_LENGTH,
  DIGEST_NOT_LOWER_HEX
} digest_check_t;

/* The one digest rule; *ALEN and *WANT say what was found, for messages. */
static digest_check_t check_digest(const char *s, apr_size_t len, apr_size_t *alen,
                                   apr_size_t *want)
{
  const char *colon = memchr(s, ':', len);
  apr_size_t i;

  *alen = colon ? (apr_size_t)(colon - s) : len;
  *want = 0;
  if (!colon)
    return DIGEST_NO_COLON;
  if (*alen == 6 && memcmp(s, "sha256", 6) == 0)
    *want = 64;
  else if (*alen == 6 && memcmp(s, "sha512", 6) == 0)
    *want = 128;
  else
    return DIGEST_ALGORITHM;
  if (len - *alen - 1 != *want)
    return DIGEST_LENGTH;
  for (i = *alen + 1; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return DIGEST_NOT_LOWER_HEX;
  return DIGEST_OK;
}

const char *dray_digest_problem(const char *s, apr_size_t len, apr_pool_t *result_pool)
{
  apr_size_t alen, want;
  switch (check_digest(s, len, &alen, &want)) {
  case DIGEST_OK:
    return NULL;
  case DIGEST_NO_COLON:
    return "invalid digest format (want ALGORITHM:HEX)";
  case DIGEST_ALGORITHM:
    return apr_psprintf(result_pool, "unsupported digest algorithm \"%s\" (want sha256 or "
                        "sha512)", dray_text_excerpt(s, alen, DRAY_TEXT_EXCERPT_MAX, result_pool));
  case DIGEST_LENGTH:
    return apr_psprintf(result_pool,
                        "invalid digest format: %s needs %" APR_SIZE_T_FMT " hex digits, got %"
                        APR_SIZE_T_FMT, dray_text_excerpt(s, alen, DRAY_TEXT_EXCERPT_MAX,
                                                          result_pool),
                        want, len - alen - 1);
  default:
    return "invalid digest format: the hex part must be lowercase hexadecimal";
  }
}

int dray_digest_is_valid(const char *s)
{
  apr_size_t alen, want;
  return s && check_digest(s, strlen(s), &alen, &want) == DIGEST_OK;
}

const char *dray_digest_parse(const char *s, apr_size_t len, apr_pool_t *result_pool)
{
  apr_size_t alen, want;
  if (!s || check_digest(s, len, &alen, &want) != DIGEST_OK)
    return NULL;
  return apr_pstrmemdup(result_pool, s, len);
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
      return apr_psprintf(pool, "invalid registry domain \"%s\"",
                          dray_text_excerpt(name, dlen, DRAY_TEXT_EXCERPT_MAX, pool));
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
    problem = dray_digest_problem(at + 1, strlen(at + 1), result_pool);
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
                             dray_text_excerpt(tag, strlen(tag), DRAY_TEXT_EXCERPT_MAX,
                                               result_pool),
                             DRAY_REF_TAG_MAX);
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
  return dray_error_createf(DRAY_ERR_INPUT, NULL, "invalid reference \"%s\": %s",
                            dray_text_excerpt(s, strlen(s), DRAY_TEXT_EXCERPT_MAX, result_pool),
                            problem);
}

int dray_ref_is_valid_name(const char *name, apr_pool_t *scratch_pool)
{
  const char *domain, *path, *slash = strrchr(name, '/');
  const char *colon = strrchr(name, ':');

  /* A ":" after the last "/" would be a tag, an "@" a digest. */
  if (strchr(name, '@') || (colon && (!slash || colon > slash)))
    return 0;
  return split_name(&domain, &path, name, strlen(name), scratch_pool) == NULL;
}

const char *dray_ref_path_problem(const char *path, apr_pool_t *result_pool)
{
  const char *problem = path_problem(path, strlen(path), result_pool);
  if (!problem && strlen(path) > DRAY_REF_NAME_MAX)
    problem = apr_psprintf(result_pool, "repository name must not be more than %d characters",
                           DRAY_REF_NAME_MAX);
  return problem;
}

int dray_ref_is_valid_path(const char *path, apr_pool_t *scratch_pool)
{
  return dray_ref_path_problem(path, scratch_pool) == NULL;
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
  return apr_pstrcat(result_pool, apr_pstrmemdup(result_pool, prefix, len), "/", name, NULL);
}

int dray_ref_domain_is_docker_hub(const char *domain)
{
  return !domain || !*domain || strcmp(domain, "docker.io") == 0
         || strcmp(domain, "index.docker.io") == 0 || strcmp(domain, "registry-1.docker.io") == 0;
}

const char *dray_ref_normalized_name(const dray_ref_t *ref, apr_pool_t *result_pool)
{
  const char *domain = ref->domain;
  if (dray_ref_domain_is_docker_hub(domain)) {
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

const char *dray_ref_path_component(const char *text, apr_pool_t *result_pool)
{
  apr_size_t n = strlen(text), i = 0, o = 0;
  char *out = apr_palloc(result_pool, n + 1);

  while (i < n) {
    char c = text[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out[o++] = c;
      i++;
    } else if (c == '.' || c == '_' || c == '-') {
      /* A run of separators: kept when the grammar allows it ("." "_"
       * "__" or dashes), else one "-"; dropped at the start and end. */
      apr_size_t j = i, dashes = 0;
      while (j < n && (text[j] == '.' || text[j] == '_' || text[j] == '-'))
        dashes += text[j++] == '-';
      if (o > 0 && j < n) {
        apr_size_t len = j - i;
        int keep = dashes == len || (len == 1) || (len == 2 && text[i] == '_' && text[i + 1] == '_');
        if (keep) {
          memcpy(out + o, text + i, len);
          o += len;
        } else {
          out[o++] = '-';
        }
      }
      i = j;
    } else {
      i++; /* not allowed anywhere */
    }
  }
  /* A run cut before a dropped character may end the name: trim it. */
  while (o > 0 && (out[o - 1] == '.' || out[o - 1] == '_' || out[o - 1] == '-'))
    o--;
  out[o] = '\0';
  return out;
}
