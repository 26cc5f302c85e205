/* platform_unix.c — the Unix side of include/dray/platform.h.
 *
 * Interrupts: sigaction handlers (SIGINT, SIGTERM, SIGHUP) only write one
 * byte to a non-blocking self-pipe; a watcher thread reads it and calls
 * dray's callback in ordinary thread context (where locks and apr_queue are
 * allowed).
 *
 * Children: fork + exec (as git's run-command.c does) rather than
 * apr_proc_create, because APR cannot put a child in its own process group.
 * All descriptors are created close-on-exec and the child marks every other
 * descriptor close-on-exec before exec, so no child ever inherits another
 * child's pipe and never sees a socket of dray's.
 */
#include "dray/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <apr_file_io.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

extern char **environ;

apr_status_t dray_platform_init(const char **warning, apr_pool_t *pool)
{
  struct sigaction sa;
  (void)pool;
  *warning = NULL;
  /* A closed pipe or socket must be an EPIPE error, not a dead dray. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGPIPE, &sa, NULL) != 0)
    return errno;
  return APR_SUCCESS;
}

/* ---- interrupts ---------------------------------------------------------- */

/* The handler may run on any thread, at any moment, also while
 * interrupts_stop runs on another. It reads the write end of the self-pipe
 * from SIGNAL_FD and counts itself in HANDLERS_RUNNING around the write;
 * interrupts_stop first sets SIGNAL_FD to -1, then waits until no handler is
 * inside, and only then closes the pipe: a handler either wrote before the
 * close or sees -1 and writes nothing, never to a closed (or, worse, reused)
 * descriptor. These are lock-free atomics, which a signal handler may use. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal handler needs lock-free atomic_int");
static atomic_int signal_fd = -1;
static atomic_int handlers_running;
static atomic_int watcher_stopping;

static int interrupt_pipe[2] = {-1, -1};
static struct sigaction old_int, old_term, old_hup;
static int hup_handled;
static apr_thread_t *watcher;
static dray_interrupt_fn interrupt_fn;
static void *interrupt_baton;

static void on_signal(int signo)
{
  int saved = errno;
  int fd;
  /* SIGINT drains first (a second one cancels); SIGTERM and SIGHUP (the
   * terminal went away, as ninja treats it) cancel at once. */
  char b = (char)(signo == SIGINT ? DRAY_INTERRUPT_INT : DRAY_INTERRUPT_TERM);

  atomic_fetch_add(&handlers_running, 1);
  fd = atomic_load(&signal_fd);
  /* Non-blocking: a full pipe drops this repeat instead of blocking the
   * thread the signal landed on. */
  if (fd >= 0 && write(fd, &b, 1) < 0) {
    /* nothing to do in a signal handler */
  }
  atomic_fetch_sub(&handlers_running, 1);
  errno = saved;
}

static void *APR_THREAD_FUNC watch_interrupts(apr_thread_t *thd, void *data)
{
  (void)data;
  for (;;) {
    char b;
    ssize_t n = read(interrupt_pipe[0], &b, 1);
    if (n < 0 && errno == EINTR)
      continue;
    /* EOF: interrupts_stop closed the write end. */
    if (n <= 0 || atomic_load(&watcher_stopping))
      break;
    interrupt_fn(interrupt_baton, (dray_interrupt_kind_t)b);
  }
  /* A plain return, not apr_thread_exit: pthread_exit unwinding trips ASan. */
  (void)thd;
  return NULL;
}

static void close_interrupt_pipe(void)
{
  close(interrupt_pipe[0]);
  close(interrupt_pipe[1]);
  interrupt_pipe[0] = interrupt_pipe[1] = -1;
}

apr_status_t dray_platform_interrupts_start(dray_interrupt_fn fn, void *baton,
                                            apr_pool_t *pool)
{
  struct sigaction sa;
  apr_status_t status;

  if (watcher)
    return APR_EEXIST;
  if (pipe2(interrupt_pipe, O_CLOEXEC) != 0)
    return errno;
  /* Only the handlers' end is non-blocking: the watcher blocks in read. */
  if (fcntl(interrupt_pipe[1], F_SETFL, fcntl(interrupt_pipe[1], F_GETFL) | O_NONBLOCK) != 0) {
    status = errno;
    close_interrupt_pipe();
    return status;
  }
  interrupt_fn = fn;
  interrupt_baton = baton;
  atomic_store(&watcher_stopping, 0);
  status = apr_thread_create(&watcher, NULL, watch_interrupts, NULL, pool);
  if (status != APR_SUCCESS) {
    close_interrupt_pipe();
    watcher = NULL;
    return status;
  }
  atomic_store(&signal_fd, interrupt_pipe[1]);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  /* Under nohup SIGHUP is ignored on purpose: keep it that way. */
  hup_handled = sigaction(SIGHUP, NULL, &old_hup) == 0 && old_hup.sa_handler != SIG_IGN;
  if (hup_handled)
    sigaction(SIGHUP, &sa, NULL);
  return APR_SUCCESS;
}

void dray_platform_interrupts_stop(void)
{
  apr_status_t rv;

  if (!watcher)
    return;
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  if (hup_handled)
    sigaction(SIGHUP, &old_hup, NULL);
  hup_handled = 0;
  /* A handler that started before the sigaction calls may still be running
   * (on another thread): no new one picks up the descriptor, and the close
   * waits for those inside. */
  atomic_store(&signal_fd, -1);
  while (atomic_load(&handlers_running) > 0)
    sched_yield();
  /* Closing the write end ends the watcher's read with EOF (a stop byte
   * could find the pipe full); what it has not read yet is not delivered. */
  atomic_store(&watcher_stopping, 1);
  close(interrupt_pipe[1]);
  interrupt_pipe[1] = -1;
  apr_thread_join(&rv, watcher);
  close(interrupt_pipe[0]);
  interrupt_pipe[0] = -1;
  watcher = NULL;
}

/* ---- children ------------------------------------------------------------ */

struct dray_platform_proc_t {
  pid_t pid;                /* also the process group id */
  int reaped;               /* once set, the pid may be reused: never signal */
  pthread_mutex_t lock;
};

static apr_status_t proc_cleanup(void *data)
{
  dray_platform_proc_t *proc = data;
  pthread_mutex_destroy(&proc->lock);
  return APR_SUCCESS;
}

/* Look PROGRAM up on PATH in the parent: execve in the child then needs no
 * allocation (after fork only async-signal-safe calls are allowed). */
static const char *resolve_program(const char *program, apr_pool_t *pool)
{
  const char *path;
  char *dirs, *dir, *state;

  if (strchr(program, '/'))
    return program;
  path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  dirs = apr_pstrdup(pool, path);
  for (dir = apr_strtok(dirs, ":", &state); dir; dir = apr_strtok(NULL, ":", &state)) {
    const char *candidate = apr_pstrcat(pool, *dir ? dir : ".", "/", program, NULL);
    struct stat st;
    if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
      return candidate;
  }
  return NULL;
}

/* dray's environment plus SPEC's additions (which replace same-named ones;
 * a bare NAME removes NAME). */
static char **build_env(const char *const *extra, apr_pool_t *pool)
{
  apr_size_t n = 0, m = 0, i, j, k = 0;
  char **env;

  while (environ[n])
    n++;
  while (extra && extra[m])
    m++;
  env = apr_pcalloc(pool, (n + m + 1) * sizeof(*env));
  for (i = 0; i < n; i++) {
    int replaced = 0;
    for (j = 0; j < m && !replaced; j++) {
      const char *eq = strchr(extra[j], '=');
      apr_size_t len = eq ? (apr_size_t)(eq - extra[j]) : strlen(extra[j]);
      if (strncmp(environ[i], extra[j], len) == 0 && environ[i][len] == '=')
        replaced = 1;
    }
    if (!replaced)
      env[k++] = environ[i];
  }
  for (j = 0; j < m; j++)
    if (strchr(extra[j], '='))
      env[k++] = (char *)extra[j];
  env[k] = NULL;
  return env;
}

/* In the child, between vfork and exec: system calls only. The child runs
 * on the parent thread's memory and stack (that thread waits), so it
 * changes nothing but its own process state, and calls no library function
 * that could take a lock or allocate. */
static void child_exec(const char *program, char *const *argv, char *const *envp,
                       const char *cwd, int in_fd, int out_fd, int stderr_fd,
                       int err_pipe, pid_t parent)
{
  struct sigaction sa, old;
  sigset_t none;
  int e, sig;

  setpgid(0, 0);
#ifdef __linux__
  /* If dray is killed outright, the child goes too. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
#else
  (void)parent;
#endif
  /* Every handler dray installed goes back to the default (its own table:
   * a vfork child shares memory, not signal dispositions), so that no
   * handler of dray's can run here; then the signals the parent blocked
   * for the spawn are let through. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (sig = 1; sig < NSIG; sig++)
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL
        && (old.sa_handler != SIG_IGN || sig == SIGPIPE))
      sigaction(sig, &sa, NULL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(stderr_fd, 2) < 0)
    goto fail;
  if (cwd && chdir(cwd) != 0)
    goto fail;
#if defined(__linux__) && defined(CLOSE_RANGE_CLOEXEC)
  /* Descriptors other threads opened without O_CLOEXEC must not leak. */
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
  {
    long max = sysconf(_SC_OPEN_MAX);
    int fd;
    if (max < 0 || max > 65536)
      max = 65536;
    for (fd = 3; fd < max; fd++)
      if (fd != err_pipe)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  execve(program, argv, envp);
fail:
  e = errno;
  if (write(err_pipe, &e, sizeof(e)) < 0) {
    /* parent sees EOF and a 127 exit */
  }
  _exit(127);
}

static apr_status_t wrap_fd(apr_file_t **file, int fd, apr_pool_t *pool)
{
  apr_os_file_t os = fd;
  /* register_cleanup = 1: the pool closes it. */
  return apr_os_pipe_put_ex(file, &os, 1, pool);
}

apr_status_t dray_platform_spawn(dray_platform_proc_t **proc_p,
                                 apr_file_t **output_read,
                                 apr_file_t **stdin_write,
                                 const char **errmsg,
                                 const dray_spawn_t *spec,
                                 apr_pool_t *pool)
{
  int out[2] = {-1, -1}, in[2] = {-1, -1}, errp[2] = {-1, -1};
  const char *program;
  char **envp;
  dray_platform_proc_t *proc;
  pid_t pid, parent = getpid();
  apr_status_t status;
  int child_errno = 0, e;
  volatile int stderr_fd = -1; /* in memory: vfork's child reads it */
  ssize_t n;

  *errmsg = NULL;
  *proc_p = NULL;
  *output_read = NULL;
  if (stdin_write)
    *stdin_write = NULL;

  program = resolve_program(spec->argv[0], pool);
  if (!program) {
    *errmsg = apr_psprintf(pool, "%s: command not found on PATH", spec->argv[0]);
    return APR_ENOENT;
  }
  envp = build_env(spec->env, pool);
  if (spec->stderr_file) {
    apr_os_file_t os;
    apr_os_file_get(&os, spec->stderr_file);
    stderr_fd = os;
  }

  /* Every descriptor is close-on-exec from birth: no other thread's child
   * can inherit it, with no lock needed around the spawn. */
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
    goto sys_fail;
  if (spec->want_stdin) {
    if (pipe2(in, O_CLOEXEC) != 0)
      goto sys_fail;
  } else if ((in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
    goto sys_fail;
  }

  /* vfork, not fork: the child shares dray's memory until it execs, so the
   * spawn costs the same at any size of dray (fork copies the page tables:
   * measured, 2,000 images took 2.6 times as long as 1,000). No signal may
   * reach the child before its handlers are reset: all are blocked here. */
  {
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pid = vfork();
    if (pid == 0)
      child_exec(program, (char *const *)spec->argv, envp, spec->cwd, in[0], out[1],
                 stderr_fd >= 0 ? stderr_fd : out[1], errp[1], parent);
    e = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    errno = e;
  }
  if (pid < 0)
    goto sys_fail;

  /* Also set the group from the parent: no race with an early signal. */
  setpgid(pid, pid);
  close(out[1]);
  close(in[0]);
  close(errp[1]);
  do {
    n = read(errp[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(errp[0]);

  proc = apr_pcalloc(pool, sizeof(*proc));
  proc->pid = pid;
  pthread_mutex_init(&proc->lock, NULL);
  apr_pool_cleanup_register(pool, proc, proc_cleanup, apr_pool_cleanup_null);

  if (n == (ssize_t)sizeof(child_errno)) {
    int code, sig;
    dray_platform_proc_wait(proc, &code, &sig);
    close(out[0]);
    if (in[1] >= 0)
      close(in[1]);
    *errmsg = apr_psprintf(pool, "cannot run %s: %s", program, strerror(child_errno));
    return child_errno;
  }

  status = wrap_fd(output_read, out[0], pool);
  if (status == APR_SUCCESS && spec->want_stdin)
    status = wrap_fd(stdin_write, in[1], pool);
  *proc_p = proc;
  return status;

sys_fail:
  status = errno;
  *errmsg = apr_psprintf(pool, "cannot start %s: %s", spec->argv[0], strerror(status));
  {
    int *fds[] = {out, in, errp};
    int i;
    for (i = 0; i < 3; i++) {
      if (fds[i][0] >= 0)
        close(fds[i][0]);
      if (fds[i][1] >= 0)
        close(fds[i][1]);
    }
  }
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
  pthread_mutex_lock(&proc->lock);
  if (!proc->reaped) {
    /* The negative pid addresses the whole process group. */
    if (kill(-proc->pid, how == DRAY_PROC_KILL ? SIGKILL : SIGINT) != 0 && errno != ESRCH)
      status = errno;
  }
  pthread_mutex_unlock(&proc->lock);
  return status;
}

int dray_platform_proc_exited(dray_platform_proc_t *proc)
{
  siginfo_t info;
  int exited;
  pthread_mutex_lock(&proc->lock);
  memset(&info, 0, sizeof(info));
  /* WNOWAIT: look, do not reap; the zombie keeps the group id ours. */
  exited = proc->reaped ||
           (waitid(P_PID, proc->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0);
  pthread_mutex_unlock(&proc->lock);
  return exited;
}

apr_status_t dray_platform_proc_wait(dray_platform_proc_t *proc,
                                     int *exit_code, int *signaled)
{
  siginfo_t info;
  int wstatus = 0;
  pid_t r;

  /* Wait without reaping: the zombie keeps the pid (and group id) reserved
   * while we kill whatever the child left behind in its group. */
  memset(&info, 0, sizeof(info));
  while (waitid(P_PID, proc->pid, &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR)
      break;
  }
  pthread_mutex_lock(&proc->lock);
  if (!proc->reaped) {
    kill(-proc->pid, SIGKILL);
    do {
      r = waitpid(proc->pid, &wstatus, 0);
    } while (r < 0 && errno == EINTR);
    proc->reaped = 1;
  } else {
    r = -1;
  }
  pthread_mutex_unlock(&proc->lock);
  if (r < 0)
    return APR_FROM_OS_ERROR(ECHILD);
  if (WIFSIGNALED(wstatus)) {
    *signaled = 1;
    *exit_code = 128 + WTERMSIG(wstatus);
  } else {
    *signaled = 0;
    *exit_code = WEXITSTATUS(wstatus);
  }
  return APR_SUCCESS;
}

/* ---- console and machine ------------------------------------------------ */

int dray_platform_is_terminal(FILE *stream)
{
  const char *term = getenv("TERM");
  if (!isatty(fileno(stream)))
    return 0;
  return !(term && strcmp(term, "dumb") == 0);
}

int dray_platform_terminal_width(FILE *stream)
{
  struct winsize ws;
  const char *cols;
  if (ioctl(fileno(stream), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  cols = getenv("COLUMNS");
  return cols ? atoi(cols) : 0;
}

apr_status_t dray_platform_cpu_times(apr_uint64_t *idle, apr_uint64_t *total)
{
  unsigned long long v[10] = {0};
  char line[512];
  FILE *f = fopen("/proc/stat", "re");
  int n, i;

  if (!f)
    return errno;
  if (!fgets(line, sizeof(line), f)) {
    fclose(f);
    return APR_EGENERAL;
  }
  fclose(f);
  /* "cpu  user nice system idle iowait irq softirq steal guest guest_nice" */
  n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
             &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
  if (n < 4)
    return APR_EGENERAL;
  *idle = v[3] + (n > 4 ? v[4] : 0); /* waiting for I/O is CPU a build could use */
  *total = 0;
  for (i = 0; i < n && i < 8; i++) /* guest time is already in user */
    *total += v[i];
  return APR_SUCCESS;
}

int dray_platform_cpu_count(void)
{
  long n;
#ifdef __linux__
  cpu_set_t set;
  /* Honour affinity (taskset, container cpusets), as nproc does. */
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
#endif
  n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

const char *dray_platform_home_dir(apr_pool_t *pool)
{
  const char *home = getenv("HOME");
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  return home ? apr_pstrdup(pool, home) : NULL;
}

const char *dray_platform_user_config_dir(apr_pool_t *pool)
{
  const char *xdg = getenv("XDG_CONFIG_HOME"), *home;
  if (xdg && xdg[0] == '/')
    return apr_pstrdup(pool, xdg);
  home = dray_platform_home_dir(pool);
  return home ? apr_pstrcat(pool, home, "/.config", NULL) : NULL;
}

const char *dray_platform_default_engine_host(void)
{
  return "unix:///var/run/docker.sock";
}

apr_status_t dray_platform_lock_dir(const char **dir_p, apr_pool_t *pool)
{
  const char *runtime = getenv("XDG_RUNTIME_DIR"), *tmp, *dir;
  struct stat st;

  if (runtime && *runtime) {
    dir = apr_pstrcat(pool, runtime, "/dray", NULL);
  } else {
    apr_status_t rv = apr_temp_dir_get(&tmp, pool);
    if (rv != APR_SUCCESS)
      return rv;
    dir = apr_psprintf(pool, "%s/dray-%lu", tmp, (unsigned long)getuid());
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return errno;
  /* In a shared /tmp someone else may have made it first: never use theirs. */
  if (lstat(dir, &st) != 0)
    return errno;
  if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 0022))
    return APR_EACCES;
  *dir_p = dir;
  return APR_SUCCESS;
}

/* ---- files dray writes --------------------------------------------------- */

apr_status_t dray_platform_path_kind(dray_path_kind_t *kind, int *mine, const char *path,
                                     apr_pool_t *pool)
{
  struct stat st;
  (void)pool;
  *kind = DRAY_PATH_MISSING;
  *mine = 1;
  if (lstat(path, &st) != 0)
    return (errno == ENOENT || errno == ENOTDIR) ? APR_SUCCESS : errno;
  *kind = S_ISLNK(st.st_mode)   ? DRAY_PATH_LINK
          : S_ISDIR(st.st_mode) ? DRAY_PATH_DIR
          : S_ISREG(st.st_mode) ? DRAY_PATH_FILE
                                : DRAY_PATH_OTHER;
  *mine = st.st_uid == geteuid();
  return APR_SUCCESS;
}

static apr_status_t close_private(void *data)
{
  apr_file_t *file = data;
  apr_os_file_t fd = -1;
  if (apr_os_file_get(&fd, file) == APR_SUCCESS && fd >= 0)
    apr_file_close(file);
  return APR_SUCCESS;
}

apr_status_t dray_platform_open_private(apr_file_t **file, const char *path, apr_int32_t flags,
                                        apr_pool_t *pool)
{
  int oflags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, fd;
  apr_status_t st;

  if (flags & APR_FOPEN_TRUNCATE)
    oflags |= O_TRUNC;
  if (flags & APR_FOPEN_APPEND)
    oflags |= O_APPEND;
  if (flags & APR_FOPEN_EXCL)
    oflags |= O_EXCL;
  do
    fd = open(path, oflags, S_IRUSR | S_IWUSR);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return errno;
  st = apr_os_file_put(file, &fd, APR_FOPEN_WRITE | (flags & APR_FOPEN_APPEND), pool);
  if (st != APR_SUCCESS) {
    close(fd);
    return st;
  }
  /* apr_os_file_put registers no cleanup: close with the pool, as apr_file_open would. */
  apr_pool_cleanup_register(pool, *file, close_private, apr_pool_cleanup_null);
  return APR_SUCCESS;
}
