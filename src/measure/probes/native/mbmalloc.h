// What the malloc interposer (mbmalloc.c) and its Python hook (mbmalloc-python.c) share: the
// counters and how a block is counted in and out.
#ifndef MBMALLOC_H
#define MBMALLOC_H
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef __GLIBC__
#error "mbmalloc forwards to glibc's __libc_malloc family: it needs glibc"
#endif
#if __GLIBC_PREREQ(2, 32)
#include <sys/single_threaded.h>
#define MB_SINGLE_THREADED() (__libc_single_threaded)
#else
#define MB_SINGLE_THREADED() 0
#endif

#define MB_EXPORT __attribute__((visibility("default")))
#define MB_HIDDEN __attribute__((visibility("hidden")))
#define MB_LIKELY(x) __builtin_expect(!!(x), 1)
#define MB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MB_R __ATOMIC_RELAXED

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { HDR = 16 };
#define MB_MAGIC 0x4d420000u /* "MB" in the high half; glibc's chunk header has 0 there */
/* The same, for a block malloc'd by Python's allocator inside our Python hook: the hook counts
   what Python asked for, so the malloc under it must not count again. */
#define MB_UNCOUNTED 0x4d430000u
#define MB_MAGIC_MASK 0xfffe0000u

typedef struct {
  uint64_t size;   /* requested size */
  uint32_t offset; /* user pointer - glibc's pointer */
  uint32_t tag;    /* MB_MAGIC | epoch */
} mb_header;
_Static_assert(sizeof(mb_header) == HDR, "header must keep 16-byte alignment");

/* Counters on their own cache line. live/peak are signed: a mark racing with other threads can
   leave live slightly off, and it must never wrap into a huge peak. */
typedef struct {
  int64_t live;
  int64_t peak;
  uint64_t total;
  uint64_t count;
} mb_counters;
/* The counters fill the first bytes of a page of their own, so that the interposer can map a file
   over that page (MAP_SHARED | MAP_FIXED) and the runner's sampler reads the live count from the
   file beside /proc while the hot path keeps writing a plain static variable. Sized and aligned
   for the largest page Linux uses (64 KiB, arm64); only the first system page is mapped.
   The runner reads the page as: live, peak, total, count (int64 each, native byte order), then
   MB_LIVE_MAGIC and the pid (uint32 each). */
enum { MB_PAGE_MAX = 65536 };
#define MB_LIVE_MAGIC 0x564c424du /* "MBLV" */
typedef union {
  struct {
    mb_counters c;
    uint32_t magic;
    uint32_t pid;
  } s;
  unsigned char bytes[MB_PAGE_MAX];
} mb_page_t;
extern MB_HIDDEN mb_page_t mb_page;
#define mb (mb_page.s.c)
extern MB_HIDDEN uint32_t mb_epoch; /* low 16 bits go into the tags */
/* $MEMBUDGET_OUT_DIR, where the figures and the live page go ("" when unset). */
enum { MB_DIR_MAX = 4096 };
extern MB_HIDDEN char mb_dir[MB_DIR_MAX];
MB_HIDDEN size_t mb_page_size(void);
/* Maps <dir>/<pid>.live over the counters' page (mbmalloc-live.c); in a forked child, first. */
MB_HIDDEN void mb_publish_live(void);
/* Set when another malloc comes first (an allocator in LD_PRELOAD before us, or one linked into
   the program): every entry point of ours still reached then behaves as glibc's would have,
   since without us glibc's would have been called. */
extern MB_HIDDEN int mb_passthrough;
/* Non-zero while this thread is inside the Python hook's call to Python's own allocator. */
extern MB_HIDDEN __thread int mb_in_hook __attribute__((tls_model("initial-exec")));

static inline uint32_t cur_epoch(void) { return __atomic_load_n(&mb_epoch, MB_R) & 0xffffu; }

static inline void on_alloc(uint64_t n) {
  if (MB_LIKELY(MB_SINGLE_THREADED())) {
    mb.count++;
    mb.total += n;
    int64_t l = mb.live += (int64_t)n;
    if (l > mb.peak) mb.peak = l;
  } else {
    __atomic_fetch_add(&mb.count, 1, MB_R);
    __atomic_fetch_add(&mb.total, n, MB_R);
    int64_t l = __atomic_add_fetch(&mb.live, (int64_t)n, MB_R);
    int64_t p = __atomic_load_n(&mb.peak, MB_R);
    while (l > p && !__atomic_compare_exchange_n(&mb.peak, &p, l, 1, MB_R, MB_R)) {
    }
  }
}

static inline void on_free(uint64_t n) {
  if (MB_LIKELY(MB_SINGLE_THREADED()))
    mb.live -= (int64_t)n;
  else
    __atomic_fetch_sub(&mb.live, (int64_t)n, MB_R);
}

#endif
