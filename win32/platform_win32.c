/* platform_win32.c — platform.h on Windows.
 *
 * UTF-8 everywhere inside dray, wide-character Win32 calls at this edge.
 * Children: CreateProcessW in a new process group (so the console's Ctrl+C
 * reaches only dray) and in their own Job Object nested in dray's (so a whole
 * tree can be ended); only their own pipe ends are inherited.
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0601 /* Windows 7: GetActiveProcessorCount */
#endif
/* APR first: apr.h brings in winsock2.h and ws2tcpip.h only when it is the
 * one to include windows.h. */
#include "dray/platform.h"

#include <apr_file_io.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include <windows.h>
#include <io.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifndef ENABLE_VIRTUAL_TERMINAL_PROCESSING
#define ENABLE_VIRTUAL_TERMINAL_PROCESSING 0x0004
#endif
#ifndef STATUS_CONTROL_C_EXIT
#define STATUS_CONTROL_C_EXIT 0xC000013AUL
#endif

/* The exit code TerminateJobObject gives a killed tree: reported as SIGKILL
 * (128+9), as on Unix. */
#define KILLED_EXIT_CODE 137u

/* ---- UTF-8 <-> UTF-16 ------------------------------------------------------ */

static wchar_t *to_wide(const char *s, apr_pool_t *pool)
{
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
  wchar_t *w;

  if (n <= 0)
    return NULL;
  w = apr_palloc(pool, (apr_size_t)n * sizeof(wchar_t));
  if (MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n) != n)
    return NULL;
  return w;
}

static char *to_utf8(const wchar_t *w, apr_pool_t *pool)
{
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s;

  if (n <= 0)
    return NULL;
  s = apr_palloc(pool, (apr_size_t)n);
  if (WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n)
    return NULL;
  return s;
}

static const char *os_message(DWORD err, apr_pool_t *pool)
{
  char buf[256];
  return apr_pstrdup(pool, apr_strerror(APR_FROM_OS_ERROR(err), buf, sizeof(buf)));
}

/* ---- process-wide set-up --------------------------------------------------- */

static HANDLE dray_job;          /* never closed: closing it kills every descendant */
static UINT saved_output_cp;
static HANDLE saved_mode_handle[2];
static DWORD saved_mode[2];
static int restore_registered;

static void restore_console(void)
{
  int i;

  for (i = 0; i < 2; i++)
    if (saved_mode_handle[i])
      SetConsoleMode(saved_mode_handle[i], saved_mode[i]);
  if (saved_output_cp)
    SetConsoleOutputCP(saved_output_cp);
}

/* Turn on VT processing for a console handle; remembers the old mode so that
 * the console is left as found. Returns non-zero when VT is on. */
static int enable_vt(HANDLE h, int slot)
{
  DWORD mode;

  if (h == NULL || h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode))
    return 0;
  if (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING)
    return 1;
  if (!SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING))
    return 0; /* older Windows: plain lines */
  if (slot >= 0 && !saved_mode_handle[slot]) {
    saved_mode_handle[slot] = h;
    saved_mode[slot] = mode;
  }
  return 1;
}

apr_status_t dray_platform_init(const char **warning, apr_pool_t *pool)
{
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
  UINT cp;

  *warning = NULL;

  /* Every descendant joins this job and dies when dray's last handle to it
   * closes, however dray ends. Fails inside a job that forbids nesting
   * (before Windows 8, some CI services): not fatal. */
  if (!dray_job) {
    HANDLE job = CreateJobObjectW(NULL, NULL);
    if (job) {
      memset(&limits, 0, sizeof(limits));
      limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
      if (SetInformationJobObject(job, JobObjectExtendedLimitInformation,
                                  &limits, sizeof(limits))
          && AssignProcessToJobObject(job, GetCurrentProcess())) {
        dray_job = job;
      } else {
        DWORD err = GetLastError();
        CloseHandle(job);
        *warning = apr_psprintf(pool, "cannot put dray in a job object (%s): "
                                "children may outlive dray if it is killed",
                                os_message(err, pool));
      }
    } else {
      *warning = apr_psprintf(pool, "cannot create a job object (%s)",
                              os_message(GetLastError(), pool));
    }
  }

  /* dray writes UTF-8; restored at exit so the user's console is left as found. */
  cp = GetConsoleOutputCP();
  if (cp != 0 && cp != CP_UTF8 && SetConsoleOutputCP(CP_UTF8))
    saved_output_cp = cp;
  enable_vt(GetStdHandle(STD_OUTPUT_HANDLE), 0);
  enable_vt(GetStdHandle(STD_ERROR_HANDLE), 1);
  if (!restore_registered) {
    restore_registered = 1;
    atexit(restore_console);
  }
  return APR_SUCCESS;
}

/* ---- interrupts ------------------------------------------------------------ */

/* The handler holds the lock shared while it calls back, so that
 * dray_platform_interrupts_stop (exclusive) returns only once no callback
 * is running and the baton may be freed. */
static SRWLOCK int_lock = SRWLOCK_INIT;
static dray_interrupt_fn int_fn;
static void *int_baton;
static HANDLE int_stopped;       /* manual-reset: set by interrupts_stop */
static int int_installed;

static BOOL WINAPI ctrl_handler(DWORD type)
{
  dray_interrupt_kind_t kind;
  int delivered = 0;

  switch (type) {
  case CTRL_C_EVENT:        kind = DRAY_INTERRUPT_INT; break;
  case CTRL_BREAK_EVENT:    kind = DRAY_INTERRUPT_BREAK; break;
  case CTRL_CLOSE_EVENT:
  case CTRL_LOGOFF_EVENT:
  case CTRL_SHUTDOWN_EVENT: kind = DRAY_INTERRUPT_CLOSE; break;
  default:                  return FALSE;
  }

  AcquireSRWLockShared(&int_lock);
  if (int_fn) {
    int_fn(int_baton, kind);
    delivered = 1;
  }
  ReleaseSRWLockShared(&int_lock);
  if (!delivered)
    return FALSE; /* default: end the process */

  /* Windows ends the process as soon as a close handler returns (and ~5 s
   * after the event at the latest): give dray time to cancel and clean up. */
  if (kind == DRAY_INTERRUPT_CLOSE && int_stopped)
    WaitForSingleObject(int_stopped, 4000);
  return TRUE;
}

apr_status_t dray_platform_interrupts_start(dray_interrupt_fn fn, void *baton,
                                            apr_pool_t *pool)
{
  apr_status_t status = APR_SUCCESS;

  (void)pool; /* nothing to allocate: the state is static */
  AcquireSRWLockExclusive(&int_lock);
  if (int_fn) {
    /* Once only, until stopped: as on Unix. */
    ReleaseSRWLockExclusive(&int_lock);
    return APR_EEXIST;
  }
  if (!int_stopped)
    int_stopped = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (!int_stopped) {
    status = APR_FROM_OS_ERROR(GetLastError());
  } else {
    ResetEvent(int_stopped);
    int_fn = fn;
    int_baton = baton;
    if (!int_installed) {
      if (SetConsoleCtrlHandler(ctrl_handler, TRUE))
        int_installed = 1;
      else
        status = APR_FROM_OS_ERROR(GetLastError());
    }
    if (status != APR_SUCCESS)
      int_fn = NULL;
  }
  ReleaseSRWLockExclusive(&int_lock);
  return status;
}

void dray_platform_interrupts_stop(void)
{
  int remove;

  AcquireSRWLockExclusive(&int_lock);
  int_fn = NULL;
  int_baton = NULL;
  if (int_stopped)
    SetEvent(int_stopped); /* releases a close handler that waits for us */
  remove = int_installed;
  int_installed = 0;
  ReleaseSRWLockExclusive(&int_lock);
  if (remove)
    SetConsoleCtrlHandler(ctrl_handler, FALSE);
}

/* ---- children -------------------------------------------------------------- */

struct dray_platform_proc_t {
  SRWLOCK lock;          /* signal vs. wait: no signal once reaped */
  HANDLE process;
  HANDLE job;            /* NULL when nested jobs are not available */
  DWORD pid;
  int reaped;
  int killed;            /* dray_platform_proc_signal(KILL) was called */
  int exit_code;
  int signaled;
};

/* Serializes "create pipes + make them inheritable + CreateProcess": a
 * concurrent spawn must not inherit another child's pipe ends (where the
 * handle list below is not honoured, e.g. wine, this is what guarantees it). */
static SRWLOCK spawn_lock = SRWLOCK_INIT;

static apr_status_t proc_cleanup(void *data)
{
  dray_platform_proc_t *proc = data;

  AcquireSRWLockExclusive(&proc->lock);
  if (proc->process)
    CloseHandle(proc->process);
  if (proc->job)
    CloseHandle(proc->job); /* kill-on-close: nothing of the tree survives its pool */
  proc->process = proc->job = NULL;
  proc->reaped = 1;
  ReleaseSRWLockExclusive(&proc->lock);
  return APR_SUCCESS;
}

/* Append ARG to BUF quoted so that CommandLineToArgvW and the MSVC runtime
 * give it back unchanged: backslashes are literal except before a quote. */
static void append_quoted(wchar_t **out, const wchar_t *arg)
{
  wchar_t *p = *out;
  const wchar_t *s;

  if (*arg && !wcspbrk(arg, L" \t\n\v\"")) {
    size_t n = wcslen(arg);
    memcpy(p, arg, n * sizeof(wchar_t));
    *out = p + n;
    return;
  }
  *p++ = L'"';
  for (s = arg;; s++) {
    size_t backslashes = 0;
    while (*s == L'\\') {
      backslashes++;
      s++;
    }
    if (*s == L'\0') {
      while (backslashes--) { *p++ = L'\\'; *p++ = L'\\'; }
      break;
    } else if (*s == L'"') {
      while (backslashes--) { *p++ = L'\\'; *p++ = L'\\'; }
      *p++ = L'\\';
      *p++ = L'"';
    } else {
      while (backslashes--)
        *p++ = L'\\';
      *p++ = *s;
    }
  }
  *p++ = L'"';
  *out = p;
}

static wchar_t *build_command_line(wchar_t *const *wargv, int argc, apr_pool_t *pool)
{
  size_t len = 1;
  int i;
  wchar_t *cmd, *p;

  for (i = 0; i < argc; i++)
    len += 2 * wcslen(wargv[i]) + 3; /* worst case: every char escaped, quotes, space */
  cmd = p = apr_palloc(pool, len * sizeof(wchar_t));
  for (i = 0; i < argc; i++) {
    if (i)
      *p++ = L' ';
    append_quoted(&p, wargv[i]);
  }
  *p = L'\0';
  return cmd;
}

static int is_file(const wchar_t *path)
{
  DWORD attr = GetFileAttributesW(path);
  return attr != INVALID_FILE_ATTRIBUTES && !(attr & FILE_ATTRIBUTE_DIRECTORY);
}

/* PATH[i] + "\" + NAME [+ ".exe"] when that file exists. */
static wchar_t *try_candidate(const wchar_t *dir, size_t dirlen, const wchar_t *name,
                              int add_exe, apr_pool_t *pool)
{
  size_t nlen = wcslen(name);
  wchar_t *cand = apr_palloc(pool, (dirlen + nlen + 6) * sizeof(wchar_t));
  wchar_t *p = cand;

  memcpy(p, dir, dirlen * sizeof(wchar_t));
  p += dirlen;
  if (dirlen && p[-1] != L'\\' && p[-1] != L'/')
    *p++ = L'\\';
  memcpy(p, name, nlen * sizeof(wchar_t));
  p += nlen;
  if (add_exe) {
    memcpy(p, L".exe", 4 * sizeof(wchar_t));
    p += 4;
  }
  *p = L'\0';
  return is_file(cand) ? cand : NULL;
}

/* Find the program to run, like a shell would: a name with a folder part is
 * taken as it is; a bare name is searched on PATH (not in the current
 * folder, unlike CreateProcess). A name without extension gets ".exe". */
static wchar_t *find_program(const wchar_t *name, apr_pool_t *pool)
{
  const wchar_t *base = name, *s;
  int add_exe;
  DWORD n;
  wchar_t *path;

  for (s = name; *s; s++)
    if (*s == L'\\' || *s == L'/' || *s == L':')
      base = s + 1;
  add_exe = wcschr(base, L'.') == NULL;

  if (base != name) {
    wchar_t *cand;
    if (is_file(name))
      return (wchar_t *)name;
    cand = add_exe ? try_candidate(L"", 0, name, 1, pool) : NULL;
    return cand;
  }

  n = GetEnvironmentVariableW(L"PATH", NULL, 0);
  if (n == 0)
    return NULL;
  path = apr_palloc(pool, n * sizeof(wchar_t));
  if (GetEnvironmentVariableW(L"PATH", path, n) == 0)
    return NULL;
  for (s = path; *s;) {
    const wchar_t *end = wcschr(s, L';');
    size_t len = end ? (size_t)(end - s) : wcslen(s);
    const wchar_t *dir = s;
    wchar_t *cand = NULL;

    if (len >= 2 && dir[0] == L'"' && dir[len - 1] == L'"') {
      dir++;
      len -= 2;
    }
    if (len > 0) {
      if (add_exe)
        cand = try_candidate(dir, len, name, 1, pool);
      if (!cand)
        cand = try_candidate(dir, len, name, 0, pool);
      if (cand)
        return cand;
    }
    if (!end)
      break;
    s = end + 1;
  }
  return NULL;
}

typedef struct env_entry_t {
  const wchar_t *str;    /* "NAME=VALUE", or "NAME" (remove it) */
  size_t namelen;
} env_entry_t;

static size_t env_name_len(const wchar_t *s)
{
  /* Names like "=C:" (per-drive folders) start with '='. */
  const wchar_t *eq = wcschr(s + 1, L'=');
  return eq ? (size_t)(eq - s) : wcslen(s);
}

static int env_entry_cmp(const void *a, const void *b)
{
  const env_entry_t *x = a, *y = b;
  int r = CompareStringOrdinal(x->str, (int)x->namelen, y->str, (int)y->namelen, TRUE);
  return r - CSTR_EQUAL;
}

/* dray's environment plus ADDITIONS ("NAME=VALUE", replacing a variable of
 * the same name, compared without case; a bare "NAME" removes it), as a
 * sorted CreateProcessW block. */
static wchar_t *build_environment(const char *const *additions, apr_pool_t *pool)
{
  wchar_t *current = GetEnvironmentStringsW();
  const wchar_t *s;
  int ncur = 0, nadd = 0, n = 0, i, j;
  env_entry_t *entries;
  size_t total = 1;
  wchar_t *block, *p;

  if (!current)
    return NULL;
  for (s = current; *s; s += wcslen(s) + 1)
    ncur++;
  while (additions[nadd])
    nadd++;
  entries = apr_palloc(pool, (size_t)(ncur + nadd + 1) * sizeof(*entries));

  for (i = 0; i < nadd; i++) {
    wchar_t *w = to_wide(additions[i], pool);
    if (!w || !*w)
      continue;
    entries[n].str = w;
    entries[n].namelen = env_name_len(w);
    /* A later addition of the same name wins. */
    for (j = 0; j < n; j++)
      if (entries[j].namelen == entries[n].namelen
          && CompareStringOrdinal(entries[j].str, (int)entries[j].namelen,
                                  w, (int)entries[n].namelen, TRUE) == CSTR_EQUAL)
        break;
    if (j < n)
      entries[j] = entries[n];
    else
      n++;
  }
  nadd = n;
  for (s = current; *s; s += wcslen(s) + 1) {
    size_t len = env_name_len(s);
    for (j = 0; j < nadd; j++)
      if (entries[j].namelen == len
          && CompareStringOrdinal(entries[j].str, (int)len, s, (int)len, TRUE) == CSTR_EQUAL)
        break;
    if (j < nadd)
      continue; /* replaced */
    entries[n].str = apr_pmemdup(pool, s, (wcslen(s) + 1) * sizeof(wchar_t));
    entries[n].namelen = len;
    n++;
  }
  FreeEnvironmentStringsW(current);

  /* CreateProcessW wants the block sorted by name, without regard to case. */
  /* Removals have done their work. */
  for (i = 0, j = 0; i < n; i++)
    if (entries[i].str[entries[i].namelen] == L'=')
      entries[j++] = entries[i];
  n = j;
  qsort(entries, (size_t)n, sizeof(*entries), env_entry_cmp);
  for (i = 0; i < n; i++)
    total += wcslen(entries[i].str) + 1;
  block = p = apr_palloc(pool, total * sizeof(wchar_t));
  for (i = 0; i < n; i++) {
    size_t len = wcslen(entries[i].str) + 1;
    memcpy(p, entries[i].str, len * sizeof(wchar_t));
    p += len;
  }
  *p = L'\0';
  return block;
}

static HANDLE inheritable_copy(HANDLE h)
{
  HANDLE dup = NULL;
  if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0,
                       TRUE, DUPLICATE_SAME_ACCESS))
    return NULL;
  return dup;
}

apr_status_t dray_platform_spawn(dray_platform_proc_t **proc_out,
                                 apr_file_t **output_read,
                                 apr_file_t **stdin_write,
                                 const char **errmsg,
                                 const dray_spawn_t *spec,
                                 apr_pool_t *pool)
{
  apr_pool_t *scratch;
  apr_status_t status = APR_SUCCESS;
  dray_platform_proc_t *proc;
  apr_file_t *out_r = NULL, *out_w = NULL, *in_r = NULL, *in_w = NULL;
  apr_os_file_t os_h;
  HANDLE child_out = NULL, child_in = NULL, child_err = NULL, job = NULL;
  HANDLE handles[3];
  DWORD nhandles = 2;
  int argc = 0, i;
  wchar_t **wargv, *program, *cmdline, *wcwd = NULL, *envblock = NULL;
  SIZE_T attr_size = 0;
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  STARTUPINFOEXW si;
  PROCESS_INFORMATION pi;
  DWORD flags, err;
  SECURITY_ATTRIBUTES sa;

  *proc_out = NULL;
  *output_read = NULL;
  if (stdin_write)
    *stdin_write = NULL;
  *errmsg = NULL;
  if (!spec->argv || !spec->argv[0]) {
    *errmsg = "no program to run";
    return APR_EINVAL;
  }

  status = apr_pool_create(&scratch, pool);
  if (status != APR_SUCCESS)
    return status;

  while (spec->argv[argc])
    argc++;
  wargv = apr_palloc(scratch, (size_t)argc * sizeof(*wargv));
  for (i = 0; i < argc; i++) {
    wargv[i] = to_wide(spec->argv[i], scratch);
    if (!wargv[i]) {
      *errmsg = apr_psprintf(pool, "argument %d is not valid UTF-8", i);
      status = APR_EINVAL;
      goto done;
    }
  }
  program = find_program(wargv[0], scratch);
  if (!program) {
    *errmsg = apr_psprintf(pool, "%s: program not found%s", spec->argv[0],
                           strpbrk(spec->argv[0], "/\\:") ? "" : " on PATH");
    status = APR_ENOENT;
    goto done;
  }
  cmdline = build_command_line(wargv, argc, scratch);
  if (spec->cwd && !(wcwd = to_wide(spec->cwd, scratch))) {
    *errmsg = "working folder is not valid UTF-8";
    status = APR_EINVAL;
    goto done;
  }
  if (spec->env && !(envblock = build_environment(spec->env, scratch))) {
    *errmsg = "cannot build the environment";
    status = APR_ENOMEM;
    goto done;
  }

  proc = apr_pcalloc(pool, sizeof(*proc));
  InitializeSRWLock(&proc->lock);

  /* Each child gets its own job nested in dray's, so that its whole tree can
   * be ended; kill-on-close: nothing of it outlives the handle. Without
   * nested jobs (before Windows 8) only the child itself can be ended. */
  job = CreateJobObjectW(NULL, NULL);
  if (job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
    memset(&limits, 0, sizeof(limits));
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits,
                            sizeof(limits));
  }

  AcquireSRWLockExclusive(&spawn_lock);

  /* The parent's ends are non-inheritable APR pipes; the child gets
   * inheritable duplicates of the other ends, closed right after the spawn.
   * Our read end is overlapped (APR_WRITE_BLOCK: only the child's end
   * blocks), because only an overlapped pipe can be read with a timeout:
   * without one, a silent child (a hung push) would block its reader for
   * ever. Reads block until a caller sets a timeout, as on POSIX. */
  status = apr_file_pipe_create_ex(&out_r, &out_w, APR_WRITE_BLOCK, pool);
  if (status == APR_SUCCESS)
    status = apr_file_pipe_timeout_set(out_r, -1);
  if (status != APR_SUCCESS) {
    *errmsg = "cannot create the output pipe";
    goto unlock;
  }
  apr_os_file_get(&os_h, out_w);
  child_out = inheritable_copy(os_h);
  if (spec->want_stdin) {
    status = apr_file_pipe_create_ex(&in_r, &in_w, APR_FULL_BLOCK, pool);
    if (status != APR_SUCCESS) {
      *errmsg = "cannot create the input pipe";
      goto unlock;
    }
    apr_os_file_get(&os_h, in_r);
    child_in = inheritable_copy(os_h);
  } else {
    sa.nLength = sizeof(sa);
    sa.lpSecurityDescriptor = NULL;
    sa.bInheritHandle = TRUE;
    child_in = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                           &sa, OPEN_EXISTING, 0, NULL);
    if (child_in == INVALID_HANDLE_VALUE)
      child_in = NULL;
  }
  if (spec->stderr_file) {
    apr_os_file_get(&os_h, spec->stderr_file);
    child_err = inheritable_copy(os_h);
  }
  if (!child_out || !child_in || (spec->stderr_file && !child_err)) {
    status = APR_FROM_OS_ERROR(GetLastError());
    *errmsg = "cannot prepare the child's standard handles";
    goto unlock;
  }

  /* Only these handles are inherited, whatever else is inheritable. */
  handles[0] = child_in;
  handles[1] = child_out;
  if (child_err)
    handles[nhandles++] = child_err;
  InitializeProcThreadAttributeList(NULL, 1, 0, &attr_size);
  attrs = apr_palloc(scratch, attr_size);
  if (!InitializeProcThreadAttributeList(attrs, 1, 0, &attr_size)) {
    attrs = NULL;
    status = APR_FROM_OS_ERROR(GetLastError());
    *errmsg = "cannot initialize the process attributes";
    goto unlock;
  }
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                 handles, nhandles * sizeof(HANDLE), NULL, NULL)) {
    status = APR_FROM_OS_ERROR(GetLastError());
    *errmsg = "cannot set the inherited handle list";
    goto unlock;
  }

  memset(&si, 0, sizeof(si));
  si.StartupInfo.cb = sizeof(si);
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = child_in;
  si.StartupInfo.hStdOutput = child_out;
  si.StartupInfo.hStdError = child_err ? child_err : child_out;
  si.lpAttributeList = attrs;

  /* Suspended until it is in its job, so that nothing it starts escapes. */
  flags = CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT
          | EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED;
  if (!GetConsoleWindow())
    flags |= CREATE_NO_WINDOW; /* no console of ours: don't pop one up */
  memset(&pi, 0, sizeof(pi));
  if (!CreateProcessW(program, cmdline, NULL, NULL, TRUE, flags, envblock, wcwd,
                      &si.StartupInfo, &pi)) {
    err = GetLastError();
    status = APR_FROM_OS_ERROR(err);
    *errmsg = apr_psprintf(pool, "cannot run %s: %s", spec->argv[0],
                           os_message(err, scratch));
    goto unlock;
  }
  if (job && !AssignProcessToJobObject(job, pi.hProcess)) {
    CloseHandle(job);
    job = NULL;
  }
  ResumeThread(pi.hThread);
  CloseHandle(pi.hThread);

  proc->process = pi.hProcess;
  proc->pid = pi.dwProcessId;
  proc->job = job;
  job = NULL;
  apr_pool_cleanup_register(pool, proc, proc_cleanup, apr_pool_cleanup_null);

unlock:
  if (child_out)
    CloseHandle(child_out);
  if (child_in)
    CloseHandle(child_in);
  if (child_err)
    CloseHandle(child_err);
  /* The child's ends in this process: closed so that EOF comes when the
   * child (and everything that inherited its output) is gone. */
  if (out_w)
    apr_file_close(out_w);
  if (in_r)
    apr_file_close(in_r);
  ReleaseSRWLockExclusive(&spawn_lock);
  if (attrs)
    DeleteProcThreadAttributeList(attrs);
  if (job)
    CloseHandle(job);

  if (status == APR_SUCCESS) {
    *proc_out = proc;
    *output_read = out_r;
    if (stdin_write)
      *stdin_write = in_w;
    else if (in_w)
      apr_file_close(in_w);
  } else {
    if (out_r)
      apr_file_close(out_r);
    if (in_w)
      apr_file_close(in_w);
  }
done:
  apr_pool_destroy(scratch);
  return status;
}

int dray_platform_proc_pid(const dray_platform_proc_t *proc)
{
  return (int)proc->pid;
}

apr_status_t dray_platform_proc_signal(dray_platform_proc_t *proc,
                                       dray_proc_signal_t how)
{
  apr_status_t status = APR_SUCCESS;

  AcquireSRWLockExclusive(&proc->lock);
  if (!proc->reaped) {
    if (how == DRAY_PROC_INTERRUPT) {
      /* Reaches every process of the child's group attached to our console.
       * Go programs (docker) treat Ctrl+Break like SIGINT. */
      if (!GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, proc->pid))
        status = APR_FROM_OS_ERROR(GetLastError());
    } else if (how == DRAY_PROC_KILL) {
      proc->killed = 1;
      if (proc->job) {
        if (!TerminateJobObject(proc->job, KILLED_EXIT_CODE))
          status = APR_FROM_OS_ERROR(GetLastError());
      } else if (!TerminateProcess(proc->process, KILLED_EXIT_CODE)) {
        status = APR_FROM_OS_ERROR(GetLastError());
      }
    } else {
      status = APR_EINVAL;
    }
  }
  ReleaseSRWLockExclusive(&proc->lock);
  return status;
}

int dray_platform_proc_exited(dray_platform_proc_t *proc)
{
  int exited;
  AcquireSRWLockShared(&proc->lock);
  exited = proc->reaped || WaitForSingleObject(proc->process, 0) == WAIT_OBJECT_0;
  ReleaseSRWLockShared(&proc->lock);
  return exited;
}

apr_status_t dray_platform_proc_wait(dray_platform_proc_t *proc,
                                     int *exit_code, int *signaled)
{
  HANDLE process;
  DWORD code = 0;
  apr_status_t status = APR_SUCCESS;

  AcquireSRWLockShared(&proc->lock);
  process = proc->reaped ? NULL : proc->process;
  ReleaseSRWLockShared(&proc->lock);

  /* Waiting without the lock so that signal can run meanwhile; the handle
   * stays valid: only this function (or the pool cleanup) closes it. */
  if (process) {
    if (WaitForSingleObject(process, INFINITE) != WAIT_OBJECT_0)
      return APR_FROM_OS_ERROR(GetLastError());
    if (!GetExitCodeProcess(process, &code))
      status = APR_FROM_OS_ERROR(GetLastError());

    AcquireSRWLockExclusive(&proc->lock);
    if (!proc->reaped) {
      /* Whatever the child left running (and holding our pipe) ends now. */
      if (proc->job) {
        TerminateJobObject(proc->job, KILLED_EXIT_CODE);
        CloseHandle(proc->job);
        proc->job = NULL;
      }
      if (proc->killed && code == KILLED_EXIT_CODE) {
        proc->exit_code = 128 + 9;
        proc->signaled = 1;
      } else if (code == STATUS_CONTROL_C_EXIT) {
        proc->exit_code = 128 + 2; /* ended by Ctrl+C / Ctrl+Break: SIGINT */
        proc->signaled = 1;
      } else {
        proc->exit_code = (int)code;
        proc->signaled = 0;
      }
      CloseHandle(proc->process);
      proc->process = NULL;
      proc->reaped = 1;
    }
    ReleaseSRWLockExclusive(&proc->lock);
  }
  *exit_code = proc->exit_code;
  *signaled = proc->signaled;
  return status;
}

/* ---- console and machine -------------------------------------------------- */

static HANDLE stream_handle(FILE *stream)
{
  int fd = stream ? _fileno(stream) : -1;
  intptr_t h;

  if (fd < 0)
    return NULL;
  h = _get_osfhandle(fd);
  return h == -1 ? NULL : (HANDLE)h;
}

int dray_platform_is_terminal(FILE *stream)
{
  int slot = stream == stdout ? 0 : stream == stderr ? 1 : -1;
  return enable_vt(stream_handle(stream), slot);
}

int dray_platform_terminal_width(FILE *stream)
{
  CONSOLE_SCREEN_BUFFER_INFO info;
  HANDLE h = stream_handle(stream);

  if (!h || !GetConsoleScreenBufferInfo(h, &info))
    return 0;
  return info.srWindow.Right - info.srWindow.Left + 1;
}

apr_status_t dray_platform_cpu_times(apr_uint64_t *idle, apr_uint64_t *total)
{
  FILETIME fi, fk, fu;
  apr_uint64_t i, k, u;
  if (!GetSystemTimes(&fi, &fk, &fu))
    return APR_FROM_OS_ERROR(GetLastError());
  i = ((apr_uint64_t)fi.dwHighDateTime << 32) | fi.dwLowDateTime;
  k = ((apr_uint64_t)fk.dwHighDateTime << 32) | fk.dwLowDateTime;
  u = ((apr_uint64_t)fu.dwHighDateTime << 32) | fu.dwLowDateTime;
  *idle = i;
  *total = k + u; /* kernel time includes idle time */
  return APR_SUCCESS;
}

int dray_platform_cpu_count(void)
{
  DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);

  if (n == 0) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    n = si.dwNumberOfProcessors;
  }
  return n > 0 ? (int)n : 1;
}

/* The value of the environment variable NAME in UTF-8, of any length, or
 * NULL when it is unset or empty. */
static const char *env_utf8(const wchar_t *name, apr_pool_t *pool)
{
  DWORD n = GetEnvironmentVariableW(name, NULL, 0);
  wchar_t *buf;

  if (n <= 1)
    return NULL;
  buf = apr_palloc(pool, n * sizeof(wchar_t));
  if (GetEnvironmentVariableW(name, buf, n) + 1 != n)
    return NULL;
  return to_utf8(buf, pool);
}

const char *dray_platform_home_dir(apr_pool_t *pool)
{
  return env_utf8(L"USERPROFILE", pool);
}

const char *dray_platform_user_config_dir(apr_pool_t *pool)
{
  return env_utf8(L"APPDATA", pool);
}

const char *dray_platform_default_engine_host(void)
{
  /* Docker Desktop's engine (and dockerd as a Windows service). */
  return "npipe:////./pipe/docker_engine";
}

apr_status_t dray_platform_lock_dir(const char **dir_p, apr_pool_t *pool)
{
  const char *base = env_utf8(L"LOCALAPPDATA", pool), *dir;
  apr_status_t rv;

  if (!base && (rv = apr_temp_dir_get(&base, pool)) != APR_SUCCESS)
    return rv;
  dir = apr_pstrcat(pool, base, "\\dray\\locks", NULL);
  rv = apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, pool);
  if (rv != APR_SUCCESS)
    return rv;
  *dir_p = dir;
  return APR_SUCCESS;
}

/* ---- files dray writes --------------------------------------------------- */

/* APR's lstat reports a reparse point (symbolic link, junction) as APR_LNK.
 * Ownership is not checked: Windows guards folders with ACLs, and a
 * repository cannot commit a link that a checkout turns into one without
 * the user's developer mode or privileges. */
apr_status_t dray_platform_path_kind(dray_path_kind_t *kind, int *mine, const char *path,
                                     apr_pool_t *pool)
{
  apr_finfo_t fi;
  apr_status_t st = apr_stat(&fi, path, APR_FINFO_LINK | APR_FINFO_TYPE, pool);
  *kind = DRAY_PATH_MISSING;
  *mine = 1;
  if (APR_STATUS_IS_ENOENT(st) || APR_STATUS_IS_ENOTDIR(st))
    return APR_SUCCESS;
  if (st != APR_SUCCESS && st != APR_INCOMPLETE)
    return st;
  *kind = fi.filetype == APR_LNK   ? DRAY_PATH_LINK
          : fi.filetype == APR_DIR ? DRAY_PATH_DIR
          : fi.filetype == APR_REG ? DRAY_PATH_FILE
                                   : DRAY_PATH_OTHER;
  return APR_SUCCESS;
}

apr_status_t dray_platform_open_private(apr_file_t **file, const char *path, apr_int32_t flags,
                                        apr_pool_t *pool)
{
  dray_path_kind_t kind;
  int mine;
  apr_status_t st = dray_platform_path_kind(&kind, &mine, path, pool);
  if (st != APR_SUCCESS)
    return st;
  if (kind == DRAY_PATH_LINK)
    return APR_FROM_OS_ERROR(ERROR_CANT_ACCESS_FILE);
  return apr_file_open(file, path,
                       APR_FOPEN_WRITE | APR_FOPEN_CREATE
                           | (flags & (APR_FOPEN_TRUNCATE | APR_FOPEN_APPEND | APR_FOPEN_EXCL)),
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, pool);
}
