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

/* What is counted: live and peak bytes, bytes and calls allocated. live/peak are signed: a mark
   racing with other threads can leave live slightly off, and it must never wrap into a huge peak;
   and a block counted by one set and freed by the other leaves each set's live off by its size,
   their sum right. */
typedef struct {
  int64_t live;
  int64_t peak;
  uint64_t total;
  uint64_t count;
} mb_counters;
/* Two sets of counters, summed wherever they are read: malloc's (any thread at any time, so
   atomic once a thread exists) and those of Python's MEM and OBJ domains on a GIL build, which
   only the thread holding the GIL touches, one at a time: plain memory operations there, even
   in a process with many threads. Each set's peak is of the sum of both lives, so the larger of
   the two peaks is the process's. The sets sit on cache lines of their own.
   They fill the first bytes of a page of their own, so that the interposer can map a file
   over that page (MAP_SHARED | MAP_FIXED) and the runner's sampler reads the live count from the
   file beside /proc while the hot path keeps writing a plain static variable. Sized and aligned
   for the largest page Linux uses (64 KiB, arm64); only the first system page is mapped.
   The runner reads the page as: live, peak, total, count (int64 each, native byte order), then
   MB_LIVE_MAGIC and the pid (uint32 each), then at byte 64 Python's live, peak, total, count. */
enum { MB_PAGE_MAX = 65536 };
#define MB_LIVE_MAGIC 0x564c424du /* "MBLV" */
typedef union {
  struct {
    mb_counters c;
    uint32_t magic;
    uint32_t pid;
    mb_counters py __attribute__((aligned(64)));
  } s;
  unsigned char bytes[MB_PAGE_MAX];
} mb_page_t;
extern MB_HIDDEN mb_page_t mb_page;
#define mb (mb_page.s.c)
#define mb_py (mb_page.s.py)
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

/* Say why the figures cannot be trusted: the file then says so instead of giving them. */
MB_EXPORT void membudget_disable(const char *reason);
/* The pointer -> size table of the free-threaded Python hook (mbmalloc-table.c): thread-safe.
   mbt_put returns 0 when the table cannot grow; mbt_take 0 when the pointer is not in it. */
MB_HIDDEN void mbt_init(void);
MB_HIDDEN int mbt_put(const void *p, uint64_t word);
MB_HIDDEN int mbt_take(const void *p, uint64_t *word);

static inline uint32_t cur_epoch(void) { return __atomic_load_n(&mb_epoch, MB_R) & 0xffffu; }

#define MB_GET(x) __atomic_load_n(&(x), MB_R)
#define MB_SET(x, v) __atomic_store_n(&(x), (v), MB_R)

/* malloc's set: any thread. */
static inline void on_alloc(uint64_t n) {
  if (MB_LIKELY(MB_SINGLE_THREADED())) {
    mb.count++;
    mb.total += n;
    int64_t l = mb.live += (int64_t)n;
    l += MB_GET(mb_py.live);
    if (l > mb.peak) mb.peak = l;
  } else {
    __atomic_fetch_add(&mb.count, 1, MB_R);
    __atomic_fetch_add(&mb.total, n, MB_R);
    /* A full barrier (the lock prefix is one on x86 anyway): Python's live is read only after
       this update is visible to the thread that allocates there (see py_on_alloc). */
    int64_t l = __atomic_add_fetch(&mb.live, (int64_t)n, __ATOMIC_SEQ_CST);
    l += MB_GET(mb_py.live);
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

/* Python's set on a GIL build: only the thread holding the GIL is here, so plain loads and
   stores (relaxed atomics compile to them) are exact however many threads the process has.
   Another thread's malloc may run at the same instant; each side adds the other's live to its
   own. Without a fence the two could each miss the other's update (a store waits in this
   core's store buffer while the load runs), so an allocation of PY_FENCED bytes or more, rare
   and far dearer than a fence, takes one: the peak can then miss at most a smaller Python
   block made at the very instant another thread mallocs. */
enum { PY_FENCED = 512 };

static inline void py_on_alloc(uint64_t n) {
  MB_SET(mb_py.count, MB_GET(mb_py.count) + 1);
  MB_SET(mb_py.total, MB_GET(mb_py.total) + n);
  int64_t l = MB_GET(mb_py.live) + (int64_t)n;
  MB_SET(mb_py.live, l);
  if (MB_UNLIKELY(n >= PY_FENCED) && !MB_SINGLE_THREADED()) __atomic_thread_fence(__ATOMIC_SEQ_CST);
  l += __atomic_load_n(&mb.live, MB_R);
  if (l > MB_GET(mb_py.peak)) MB_SET(mb_py.peak, l);
}

static inline void py_on_free(uint64_t n) { MB_SET(mb_py.live, MB_GET(mb_py.live) - (int64_t)n); }

#endif
