/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The page cache's fake backend (cache_fake.h).
 *
 * Threading: each fake file's lock guards its data and counters; the
 * async completer owns its queue under queue_lock. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache_fake.h"
#include "iov.h"

struct fake_io {
  struct fake_io *next;
  struct fake_file *f;
  bool write;
  struct iovec *iov;
  int iovcnt;
  uint64_t offset;
  dio_cache_done_fn done;
  void *opaque;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static struct fake_io *queue_head, **queue_tail = &queue_head;
static bool async_mode, stopping;
static pthread_t completer;
static struct dio_cache *the_cache;
static uint64_t max_pages_seen;

static struct fake_file *
file_of (struct dio_cache_file *cf)
{
  return (struct fake_file *) cf;       /* cf is the first member */
}

static void
grow (struct fake_file *f, uint64_t end)
{
  if (end > f->cap) {
    f->cap = end * 2;
    f->data = realloc (f->data, f->cap);
    if (f->data == NULL)
      abort ();
  }
  if (end > f->size) {
    memset (f->data + f->size, 0, end - f->size);
    f->size = end;
  }
}

static void
tick (struct fake_file *f)
{
  f->mtime.tv_nsec++;
  if (f->mtime.tv_nsec >= 1000000000) {
    f->mtime.tv_sec++;
    f->mtime.tv_nsec = 0;
  }
}

/* Do the transfer; the result as the engine gives it. */
static ssize_t
perform (struct fake_io *x, int *err)
{
  struct fake_file *f = x->f;
  uint64_t len = 0, n;
  ssize_t r;

  for (int i = 0; i < x->iovcnt; i++)
    len += x->iov[i].iov_len;
  pthread_mutex_lock (&f->lock);
  *err = 0;
  if (x->write) {
    n = len;
    if (f->write_err) {
      n = DIO_MIN (n, f->write_ok_bytes);
      f->write_ok_bytes -= n;
    }
    if (n == 0 && f->write_err) {
      *err = f->write_err;
      r = -1;
    }
    else {
      grow (f, x->offset + n);
      dio_iov_to_buf (x->iov, x->iovcnt, 0, f->data + x->offset, n);
      tick (f);
      f->writes++;
      f->write_bytes += n;
      f->max_write = DIO_MAX (f->max_write, n);
      r = n;
    }
  }
  else if (f->read_err) {
    *err = f->read_err;
    r = -1;
  }
  else {
    n = x->offset < f->size ? DIO_MIN (len, f->size - x->offset) : 0;
    if (f->read_short)
      n = DIO_MIN (n, f->read_short);
    dio_buf_to_iov (x->iov, x->iovcnt, 0, f->data + x->offset, n);
    f->reads++;
    f->read_bytes += n;
    r = n;
  }
  pthread_mutex_unlock (&f->lock);
  return r;
}

static void
complete (struct fake_io *x)
{
  int err;
  ssize_t r = perform (x, &err);

  x->done (x->opaque, r, err);
  free (x->iov);
  free (x);
}

static void *
completer_main (void *arg)
{
  pthread_mutex_lock (&queue_lock);
  for (;;) {
    struct fake_io *x;
    while (queue_head == NULL && !stopping)
      pthread_cond_wait (&queue_cond, &queue_lock);
    if (queue_head == NULL)
      break;
    x = queue_head;
    queue_head = x->next;
    if (queue_head == NULL)
      queue_tail = &queue_head;
    pthread_mutex_unlock (&queue_lock);
    complete (x);
    pthread_mutex_lock (&queue_lock);
  }
  pthread_mutex_unlock (&queue_lock);
  return NULL;
}

static int
fake_start (struct dio_cache_file *cf, bool write, const struct iovec *iov,
            int iovcnt, uint64_t offset, dio_cache_done_fn done,
            void *opaque)
{
  struct fake_io *x = calloc (1, sizeof *x);
  uint64_t n = dio_cache_npages (the_cache);
  uint64_t old = __atomic_load_n (&max_pages_seen, __ATOMIC_RELAXED);

  if (x == NULL)
    return -1;
  /* The highest count seen, from any thread (a failed exchange reloads
   * old). */
  while (n > old
         && !__atomic_compare_exchange_n (&max_pages_seen, &old, n, false,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    ;
  x->f = file_of (cf);
  x->write = write;
  x->iov = malloc (iovcnt * sizeof *iov);   /* as the engine copies it */
  memcpy (x->iov, iov, iovcnt * sizeof *iov);
  x->iovcnt = iovcnt;
  x->offset = offset;
  x->done = done;
  x->opaque = opaque;
  if (!async_mode) {
    complete (x);
    return 0;
  }
  pthread_mutex_lock (&queue_lock);
  *queue_tail = x;
  queue_tail = &x->next;
  pthread_cond_signal (&queue_cond);
  pthread_mutex_unlock (&queue_lock);
  return 0;
}

static int
fake_getattr (struct dio_cache_file *cf, struct dio_cache_attr *attr)
{
  struct fake_file *f = file_of (cf);

  pthread_mutex_lock (&f->lock);
  f->getattrs++;
  attr->size = f->size;
  attr->mtime = attr->ctime = f->mtime;
  pthread_mutex_unlock (&f->lock);
  return 0;
}

static bool
fake_hold (struct dio_cache_file *cf)
{
  struct fake_file *f = file_of (cf);
  bool ok;

  pthread_mutex_lock (&f->lock);
  ok = !f->hold_refused;
  f->holds += ok;
  pthread_mutex_unlock (&f->lock);
  return ok;
}

static void
fake_release (struct dio_cache_file *cf)
{
  struct fake_file *f = file_of (cf);

  pthread_mutex_lock (&f->lock);
  f->releases++;
  pthread_mutex_unlock (&f->lock);
}

static const struct dio_cache_ops fake_ops = {
  .start = fake_start,
  .getattr = fake_getattr,
  .hold = fake_hold,
  .release = fake_release,
};

struct dio_cache *
fake_cache_new (uint64_t size, uint32_t page_size, bool async)
{
  async_mode = async;
  stopping = false;
  max_pages_seen = 0;
  if (async && pthread_create (&completer, NULL, completer_main, NULL))
    abort ();
  the_cache = dio_cache_new (size, page_size, &fake_ops, NULL);
  return the_cache;
}

void
fake_cache_free (struct dio_cache *c)
{
  if (async_mode) {
    pthread_mutex_lock (&queue_lock);
    stopping = true;
    pthread_cond_signal (&queue_cond);
    pthread_mutex_unlock (&queue_lock);
    pthread_join (completer, NULL);
  }
  dio_cache_free (c);
  the_cache = NULL;
}

struct fake_file *
fake_file_new (struct dio_cache *c, uint64_t size, uint32_t seed)
{
  struct fake_file *f = calloc (1, sizeof *f);

  if (f == NULL)
    abort ();
  pthread_mutex_init (&f->lock, NULL);
  grow (f, size);
  for (uint64_t i = 0; i < size; i++)
    f->data[i] = fake_pattern (i, seed);
  f->mtime.tv_sec = 1000;
  dio_cache_file_init (&f->cf, c);
  return f;
}

void
fake_file_free (struct fake_file *f)
{
  dio_cache_file_destroy (&f->cf);
  pthread_mutex_destroy (&f->lock);
  free (f->data);
  free (f);
}

void
fake_file_scribble (struct fake_file *f, uint64_t off, uint64_t len,
                    uint32_t seed)
{
  pthread_mutex_lock (&f->lock);
  grow (f, off + len);
  for (uint64_t i = off; i < off + len; i++)
    f->data[i] = fake_pattern (i, seed);
  tick (f);
  pthread_mutex_unlock (&f->lock);
}

void
fake_file_truncate (struct fake_file *f, uint64_t size)
{
  pthread_mutex_lock (&f->lock);
  if (size < f->size)
    f->size = size;
  else
    grow (f, size);
  tick (f);
  pthread_mutex_unlock (&f->lock);
}

uint64_t
fake_max_pages_seen (void)
{
  return __atomic_load_n (&max_pages_seen, __ATOMIC_RELAXED);
}
