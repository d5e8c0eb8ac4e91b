/*
 * The flush model of issue 26: a slow SD card, as far as durability goes. Preloaded into a
 * process (LD_PRELOAD), it makes every fsync, fdatasync, syncfs and sync sleep
 * FLUSH_MODEL_MS milliseconds (default 8; 0 only counts) before the real call, and counts
 * each call by appending one byte to FLUSH_MODEL_COUNT_FILE: 'f' fsync, 'd' fdatasync,
 * 's' syncfs, 'S' sync. The file's size is the count, readable while the process runs
 * and after it ends.
 *
 * Why a byte appended per call: open(O_APPEND) + write(1) is atomic between the threads
 * of a process (libuv runs Node's fsync in its thread pool, Orthanc and SQLite from
 * several threads) and between processes, survives fork and exec (LD_PRELOAD and the
 * environment are inherited, each process opens the file itself) and needs no shared
 * state that a crash could leave half-updated. Opening it at each call rather than once
 * keeps counting in a process that closes descriptors it did not open. Its cost (a few
 * microseconds) is nothing next to the modelled flush.
 *
 * sync_file_range is counted ('r') but not slowed: it only starts or waits for the
 * writeback of a range, flushes neither metadata nor the device's cache, so it is not a
 * durability point; a design that uses it to start writeback early should not pay for a
 * flush it does not get.
 *
 * Build: gcc -shared -fPIC -O2 -o flush-model.so flush-model.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct timespec flush_delay = {0, 8 * 1000 * 1000};
static char count_file[PATH_MAX];

/* Read once per process image (each exec runs this again): getenv is not safe to call
 * from the threads that flush while another thread may change the environment. */
__attribute__((constructor)) static void flush_model_init(void) {
  const char *ms = getenv("FLUSH_MODEL_MS");
  if (ms != NULL && *ms != '\0') {
    double v = strtod(ms, NULL);
    if (v < 0) v = 0;
    long long ns = (long long)(v * 1e6);
    flush_delay.tv_sec = (time_t)(ns / 1000000000LL);
    flush_delay.tv_nsec = (long)(ns % 1000000000LL);
  }
  const char *file = getenv("FLUSH_MODEL_COUNT_FILE");
  if (file != NULL && strlen(file) < sizeof count_file) strcpy(count_file, file);
}

static void count(char kind) {
  if (count_file[0] == '\0') return;
  int saved = errno; /* the caller sees the real call's errno, not ours */
  int fd = open(count_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t ignored = write(fd, &kind, 1);
    (void)ignored;
    close(fd);
  }
  errno = saved;
}

/* The modelled card's latency; interrupted sleeps go on for what remains. */
static void slow_flush(void) {
  struct timespec left = flush_delay;
  while ((left.tv_sec != 0 || left.tv_nsec != 0) && nanosleep(&left, &left) == -1 &&
         errno == EINTR) {
  }
}

/* The next definition of `name` (libc's); resolved at first use. Two threads resolving
 * it at once store the same pointer. */
#define REAL(type, name)                                     \
  static type real_##name;                                   \
  if (real_##name == NULL) real_##name = (type)dlsym(RTLD_NEXT, #name)

typedef int (*fd_fn)(int);
typedef void (*sync_fn)(void);
typedef int (*range_fn)(int, off_t, off_t, unsigned int);

int fsync(int fd) {
  REAL(fd_fn, fsync);
  int saved = errno;
  count('f');
  slow_flush();
  errno = saved;
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fd_fn, fdatasync);
  int saved = errno;
  count('d');
  slow_flush();
  errno = saved;
  return real_fdatasync(fd);
}

int syncfs(int fd) {
  REAL(fd_fn, syncfs);
  int saved = errno;
  count('s');
  slow_flush();
  errno = saved;
  return real_syncfs(fd);
}

void sync(void) {
  REAL(sync_fn, sync);
  count('S');
  slow_flush();
  real_sync();
}

int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags) {
  REAL(range_fn, sync_file_range);
  count('r');
  return real_sync_file_range(fd, offset, nbytes, flags);
}
