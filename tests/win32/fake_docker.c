/* fake_docker.c — a stand-in for docker.exe in the wine integration tests.
 *
 * A FAKE, on purpose: no Docker engine runs under wine, so these tests check
 * what dray itself does on Windows (its pools and limits, retries, Ctrl+C,
 * the Job Object) with a program that behaves like the docker CLI from the
 * outside: it takes the same arguments, takes time, prints similar lines and
 * exits like it. Real builds and pushes are tested on Linux.
 *
 *   fake_docker build [--opt VALUE]... [--iidfile F] CONTEXT
 *       sleeps (CONTEXT\fake-build-ms, else %FAKE_DOCKER_BUILD_MS%, else
 *       500 ms), writes "sha256:<64 hex>" to F. With CONTEXT\fake-grandchild
 *       it first starts "fake_docker sleep 120" (a grandchild) and leaves it.
 *   fake_docker push REF
 *       prints docker push lines ending "TAG: digest: sha256:<64 hex> size: N"
 *       after %FAKE_DOCKER_PUSH_MS% (default 300) ms; the first
 *       %FAKE_DOCKER_PUSH_FAILS% attempts of each REF fail with exit 1.
 *   fake_docker sleep SECONDS
 *
 * With %FAKE_DOCKER_STATE% set, every run leaves STATE\ev-<pid>.txt:
 *   "<kind> <start> <name>" when it starts, "end <time> <exit> [digest]"
 *   appended when it ends normally (times: Unix seconds), so the test sees
 *   what ran when, from the fake's side; STATE\tries-<ref> counts pushes.
 */
/* MSVC: fopen/getenv are fine here. */
#define _CRT_SECURE_NO_WARNINGS
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char event_path[MAX_PATH * 2];

static double unix_now(void)
{
  FILETIME ft;
  ULARGE_INTEGER t;
  GetSystemTimeAsFileTime(&ft);
  t.LowPart = ft.dwLowDateTime;
  t.HighPart = ft.dwHighDateTime;
  /* 100 ns ticks since 1601 -> seconds since 1970 */
  return (double)(t.QuadPart - 116444736000000000ULL) / 1e7;
}

static void event(const char *first, const char *kind, const char *name)
{
  const char *state = getenv("FAKE_DOCKER_STATE");
  FILE *f;

  if (!state)
    return;
  if (first) {
    BOOL in_job = FALSE;
    /* Shows the test that dray's Job Object holds the whole tree. */
    IsProcessInJob(GetCurrentProcess(), NULL, &in_job);
    snprintf(event_path, sizeof(event_path), "%s\\ev-%lu.txt", state,
             (unsigned long)GetCurrentProcessId());
    f = fopen(event_path, "w");
    if (f) {
      fprintf(f, "%s %.3f %s job=%d\n", kind, unix_now(), name, in_job ? 1 : 0);
      fclose(f);
    }
  } else if (event_path[0]) {
    f = fopen(event_path, "a");
    if (f) {
      fprintf(f, "end %.3f %s %s\n", unix_now(), kind, name ? name : "");
      fclose(f);
    }
  }
}

/* Ctrl+C / Ctrl+Break (dray interrupts a child's group with Ctrl+Break):
 * noted, then the default action, which ends the process like docker's. */
static BOOL WINAPI on_ctrl(DWORD type)
{
  if (event_path[0]) {
    FILE *f = fopen(event_path, "a");
    if (f) {
      fprintf(f, "ctrl %.3f %s\n", unix_now(), type == CTRL_BREAK_EVENT ? "break" : "c");
      fclose(f);
    }
  }
  return FALSE;
}

/* 64 hex digits from TEXT: four seeded FNV-1a hashes. Not a real digest,
 * only stable and distinct per input. */
static void hex64(char out[65], const char *text)
{
  int k;
  for (k = 0; k < 4; k++) {
    unsigned long long h = 1469598103934665603ULL ^ (unsigned long long)(k * 0x9e3779b9u);
    const unsigned char *p;
    for (p = (const unsigned char *)text; *p; p++) {
      h ^= *p;
      h *= 1099511628211ULL;
    }
    snprintf(out + 16 * k, 17, "%016llx", h);
  }
}

static long read_number_file(const char *path, long fallback)
{
  FILE *f = fopen(path, "r");
  long v;
  if (!f)
    return fallback;
  if (fscanf(f, "%ld", &v) != 1)
    v = fallback;
  fclose(f);
  return v;
}

static long env_number(const char *name, long fallback)
{
  const char *v = getenv(name);
  return v && *v ? strtol(v, NULL, 10) : fallback;
}

static int file_exists(const char *path)
{
  DWORD a = GetFileAttributesA(path);
  return a != INVALID_FILE_ATTRIBUTES;
}

/* Start "<this exe> sleep 120" without waiting: a grandchild of dray that
 * must die with the tree. */
static void start_grandchild(void)
{
  wchar_t self[MAX_PATH], cmd[MAX_PATH + 32];
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;

  if (!GetModuleFileNameW(NULL, self, MAX_PATH))
    return;
  _snwprintf(cmd, sizeof(cmd) / sizeof(cmd[0]), L"\"%ls\" sleep 120", self);
  cmd[sizeof(cmd) / sizeof(cmd[0]) - 1] = L'\0';
  memset(&si, 0, sizeof(si));
  si.cb = sizeof(si);
  /* No standard handles: it must not hold dray's output pipe open. */
  si.dwFlags = STARTF_USESTDHANDLES;
  if (CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
    printf("started grandchild %lu\n", (unsigned long)pi.dwProcessId);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
  }
}

static int do_build(int argc, char **argv)
{
  const char *iidfile = NULL, *context = NULL, *tag = "";
  char path[MAX_PATH * 2], id[65];
  long ms;
  int i;

  for (i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--iidfile") == 0 && i + 1 < argc)
      iidfile = argv[++i];
    else if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc)
      tag = argv[++i];
    else if (strcmp(argv[i], "--no-cache") == 0)
      ;
    else if (strncmp(argv[i], "--", 2) == 0 && i + 1 < argc)
      i++; /* an option with a value */
    else
      context = argv[i];
  }
  if (!context) {
    fprintf(stderr, "ERROR: \"docker buildx build\" requires exactly 1 argument.\n");
    return 1;
  }
  {
    const char *base = context + strlen(context);
    while (base > context && base[-1] != '\\' && base[-1] != '/')
      base--;
    event("first", "build", base);
  }

  snprintf(path, sizeof(path), "%s\\fake-build-ms", context);
  ms = read_number_file(path, env_number("FAKE_DOCKER_BUILD_MS", 500));
  printf("#0 building with \"default\" instance using docker driver\n\n");
  printf("#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n");
  fflush(stdout);
  snprintf(path, sizeof(path), "%s\\fake-grandchild", context);
  if (file_exists(path))
    start_grandchild();
  printf("#2 [1/1] RUN fake work for %ld ms\n", ms);
  fflush(stdout);
  Sleep((DWORD)ms);

  snprintf(path, sizeof(path), "%s %s %.6f", context, tag, unix_now());
  hex64(id, path);
  printf("#2 DONE %.1fs\n#3 exporting to image\n#3 writing image sha256:%s done\n",
         ms / 1000.0, id);
  printf("#3 naming to %s done\n#3 DONE 0.0s\n", tag);
  fflush(stdout);
  if (iidfile) {
    FILE *f = fopen(iidfile, "w");
    if (!f) {
      fprintf(stderr, "ERROR: cannot write %s\n", iidfile);
      return 1;
    }
    fprintf(f, "sha256:%s", id);
    fclose(f);
  }
  event(NULL, "0", "");
  return 0;
}

static int do_push(const char *ref)
{
  const char *state = getenv("FAKE_DOCKER_STATE");
  const char *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');
  char tag[200], repo[400], path[MAX_PATH * 2], digest[65], safe[200];
  long fails = env_number("FAKE_DOCKER_PUSH_FAILS", 0), tries = 1;
  long ms = env_number("FAKE_DOCKER_PUSH_MS", 300);
  size_t i;

  if (colon && (!slash || colon > slash)) {
    snprintf(tag, sizeof(tag), "%s", colon + 1);
    snprintf(repo, sizeof(repo), "%.*s", (int)(colon - ref), ref);
  } else {
    snprintf(tag, sizeof(tag), "latest");
    snprintf(repo, sizeof(repo), "%s", ref);
  }
  event("first", "push", ref);

  if (state) {
    FILE *f;
    snprintf(safe, sizeof(safe), "%s", ref);
    for (i = 0; safe[i]; i++)
      if (safe[i] == '/' || safe[i] == ':')
        safe[i] = '_';
    snprintf(path, sizeof(path), "%s\\tries-%s", state, safe);
    tries = read_number_file(path, 0) + 1;
    f = fopen(path, "w");
    if (f) {
      fprintf(f, "%ld\n", tries);
      fclose(f);
    }
  }

  hex64(digest, ref);
  printf("The push refers to repository [%s]\n", repo);
  printf("%.12s: Preparing\n", digest + 20);
  fflush(stdout);
  Sleep((DWORD)(ms / 2));
  if (tries <= fails) {
    fprintf(stderr, "received unexpected HTTP status: 503 Service Unavailable\n");
    event(NULL, "1", "");
    return 1;
  }
  printf("%.12s: Pushing [==================================================>]  1.024kB\n",
         digest + 20);
  fflush(stdout);
  Sleep((DWORD)(ms - ms / 2));
  printf("%.12s: Pushed\n", digest + 20);
  printf("%s: digest: sha256:%s size: 528\n", tag, digest);
  fflush(stdout);
  snprintf(path, sizeof(path), "sha256:%s", digest);
  event(NULL, "0", path);
  return 0;
}

int main(int argc, char **argv)
{
  SetConsoleCtrlHandler(on_ctrl, TRUE);
  if (argc >= 2 && strcmp(argv[1], "build") == 0)
    return do_build(argc, argv);
  if (argc == 3 && strcmp(argv[1], "push") == 0)
    return do_push(argv[2]);
  if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
    event("first", "sleep", argv[2]);
    Sleep((DWORD)strtol(argv[2], NULL, 10) * 1000);
    event(NULL, "0", "");
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "version") == 0) {
    printf("fake_docker (dray's wine tests; not Docker)\n");
    return 0;
  }
  fprintf(stderr, "fake_docker: unknown command\n");
  return 2;
}
