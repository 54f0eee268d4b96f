/* xenbus: pvos's xenstore client over the ring in start_info (store_mfn, store_evtchn) and the frontend
   half of the xenbus handshake (spec §6, §7; Xen's io/xs_wire.h and io/xenbus.h).

   Paths are absolute ("/local/domain/0/backend/...") or relative; xenstored resolves relative ones
   against /local/domain/<our id>, and relative watches report relative paths.

   Blocking calls run in thread context only: from an interrupt handler (a watch handler included) they
   return -XEN_EDEADLK. They wait at most xenbus_timeout_ms (command line xenbus-timeout=, default
   10000) and then return -XEN_ETIMEDOUT. Results: >= 0 on success, else a negated Xen errno; the
   errno names xenstored sends (EACCES, ENOENT, EAGAIN, ...) come back as their numbers. A ring that
   xenstored declared broken, or whose indices lie, makes every later call -XEN_EIO. */
#pragma once
#include "types.h"
#include "xen.h"

typedef u32 xenbus_transaction_t;
#define XBT_NIL ((xenbus_transaction_t)0)

extern u32 xenbus_timeout_ms;

/* Maps the ring and binds its port; then learns our domid (key "domid") if the command line gave none.
   Needs events, time and interrupts on. */
void xenbus_init(void);
/* xenstored has attached to our ring (it sets server_features when it does). Without it every blocking
   call would wait out its timeout, so boot-time users check this first. */
int xenbus_available(void);
/* Our domain id: domid= from the command line, else read from xenstore once. DOMID_SELF if neither. */
domid_t xenbus_domid(void);

/* ---- requests ---- */
/* READ: the value NUL-terminated into buf (truncated to size-1); returns its full length. */
int xenbus_read(xenbus_transaction_t t, const char *path, char *buf, size_t size);
int xenbus_read_u64(xenbus_transaction_t t, const char *path, u64 *value); /* decimal; -XEN_EINVAL if not */
int xenbus_write(xenbus_transaction_t t, const char *path, const char *value);
int xenbus_printf(xenbus_transaction_t t, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int xenbus_mkdir(xenbus_transaction_t t, const char *path);
int xenbus_rm(xenbus_transaction_t t, const char *path);
/* DIRECTORY: the children's names, each NUL-terminated, packed into buf; returns how many (a reply
   larger than size is -XEN_E2BIG). */
int xenbus_directory(xenbus_transaction_t t, const char *path, char *buf, size_t size);

/* ---- transactions ---- */
int xenbus_transaction_start(xenbus_transaction_t *t);
int xenbus_transaction_end(xenbus_transaction_t t, int abort); /* -XEN_EAGAIN: a conflict, start over */
/* Runs body in a transaction and commits it, starting over on EAGAIN (at most 16 times); a body that
   returns < 0 aborts the transaction and that is the result. */
int xenbus_transact(int (*body)(xenbus_transaction_t t, void *data), void *data);

/* ---- asynchronous requests, usable from interrupt context ---- */
/* done runs in interrupt context with the reply (NUL-terminated body, or err < 0 and body NULL) and
   must not block. Fails at once (-XEN_EBUSY) if the request does not fit in the ring right now. */
typedef void (*xenbus_done_t)(int err, const char *body, u32 len, void *data);
int xenbus_read_async(const char *path, xenbus_done_t done, void *data);

/* ---- watches ---- */
struct xenbus_watch;
typedef void (*xenbus_watch_fn)(struct xenbus_watch *w, const char *path); /* interrupt context */
struct xenbus_watch {
    const char *path;          /* what to watch: the node and everything below it */
    xenbus_watch_fn handler;   /* may be NULL: then waiters use events / xenbus_watch_wait */
    void *data;
    volatile u32 events;       /* events seen, the one fired at registration included */
    char last_path[128];       /* the path of the latest event (truncated) */
    /* private */
    char token[16];
    struct xenbus_watch *next;
    int registered;
};
int xenbus_watch(struct xenbus_watch *w);       /* blocking: waits for xenstored's OK */
int xenbus_watch_async(struct xenbus_watch *w); /* any context: sent, OK not awaited */
int xenbus_unwatch(struct xenbus_watch *w);     /* forgets the watch even if xenstored does not answer */
/* Waits until w->events differs from seen; returns the new count or -XEN_ETIMEDOUT at deadline_ns. */
int xenbus_watch_wait(struct xenbus_watch *w, u32 seen, u64 deadline_ns);

/* ---- frontend state machine (xenbus_state.c) ---- */
const char *xenbus_state_name(int state);
/* The state in a "state" node: 0..8, XenbusStateUnknown if the node is missing, else -errno. */
int xenbus_read_state(const char *state_path);
/* Writes <dir>/state (Linux's xenbus_switch_state: in a transaction, skipped if already there). */
int xenbus_switch_state(const char *dir, enum xenbus_state state);
/* Waits, by a watch on state_path, until its state is one of mask (bit 1 << state); returns that
   state, or -XEN_ETIMEDOUT after timeout_ms (*last holds the last state seen if last != NULL). */
int xenbus_wait_state(const char *state_path, u32 mask, u64 timeout_ms, int *last);

/* ---- suspend and resume (suspend.c) ---- */
int xenbus_busy(void);   /* a request awaits its reply, or is queued */
void xenbus_resume(void); /* in a new domain: learn our id again, register every watch again */

/* ---- counters, for tests and the report line ---- */
struct xenbus_stats { u64 requests, replies, errors, timeouts, watch_events, stray_replies, stray_events, bad_messages; };
extern struct xenbus_stats xenbus_stats;
