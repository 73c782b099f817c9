// The allocation probe's live heap, published for the runner: the counters' page (mbmalloc.h) is
// replaced by a shared mapping of a file the runner's sampler reads beside /proc.
#define _GNU_SOURCE
#include "mbmalloc.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- the live count, published for the runner's sampler ----
   The counters' page is replaced by a page of $MEMBUDGET_OUT_DIR/<pid>.live, mapped MAP_SHARED:
   the hot path keeps writing the same static variable, and the runner reads the file beside
   /proc on its own clock (a heap timeline from the normal run, no extra cost per allocation).
   Done in the constructor (no other thread yet) and in a forked child (which must stop writing
   into its parent's page at once). */
void mb_publish_live(void) {
  size_t ps = mb_page_size();
  if (ps > sizeof(mb_page) || ((uintptr_t)&mb_page & (ps - 1))) return; /* no page of its own */
  /* <dir>/<pid>.live, without stdio or malloc (this runs inside fork and the constructor). */
  static char path[MB_DIR_MAX + 32];
  size_t n = strlen(mb_dir);
  memcpy(path, mb_dir, n);
  path[n++] = '/';
  char digits[16];
  int k = 0;
  for (unsigned v = (unsigned)getpid(); k == 0 || v; v /= 10) digits[k++] = (char)('0' + v % 10);
  while (k) path[n++] = digits[--k];
  memcpy(path + n, ".live", 6);
  mb_counters saved = mb, saved_py = mb_py;
  void *at = MAP_FAILED;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (ftruncate(fd, (off_t)ps) == 0)
      at = mmap(&mb_page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    close(fd);
  }
  /* MAP_FIXED may have unmapped the page before failing; and a child left on its parent's page
     would move the parent's figures: either way the counters get a private page again. */
  if (at == MAP_FAILED)
    at = mmap(&mb_page, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  mb = saved;
  mb_py = saved_py;
  if (at == MAP_FAILED) return;
  mb_page.s.pid = (uint32_t)getpid();
  __atomic_store_n(&mb_page.s.magic, MB_LIVE_MAGIC, __ATOMIC_RELEASE);
}

