/* pvos: a small paravirtualized guest OS for Disagg (in the spirit of Xen's Mini-OS). One vCPU, no paging
   (S-mode with satp = 0: guest-physical = virtual), one thread with interrupt handlers. */
#pragma once
#include "types.h"
#include "csr.h"
#include "console.h"
#include "string.h"
#include "xen.h"
#include "hypercall.h"
#include "xenbus.h"
#include "blkfront.h"

#define barrier() asm volatile("" ::: "memory")
#define mb() asm volatile("fence rw, rw" ::: "memory")
#define rmb() asm volatile("fence r, r" ::: "memory")
#define wmb() asm volatile("fence w, w" ::: "memory")
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- boot (main.c) ---- */
extern struct start_info *start_info;
extern struct shared_info *shared_info;
void cmdline_parse(const char *line);               /* cmdline.c: once, at boot */
const char *cmdline_get(const char *key);            /* value of key=value, NULL if absent; "" for a bare key */
int cmdline_has(const char *key);
u64 cmdline_u64(const char *key, u64 fallback);      /* decimal, or 0x hex */
u64 cmdline_size_kib(const char *key, u64 fallback); /* 64M, 2048K, 1G; bare numbers are MiB */
int cmdline_value_is(const char *key, const char *value);

/* ---- interrupts (traps.c) ---- */
static inline xlen_t irq_save(void) { return csr_read(sstatus) & SSTATUS_SIE ? (csr_clear(sstatus, SSTATUS_SIE), 1) : 0; }
static inline void irq_restore(xlen_t was) { if (was) csr_set(sstatus, SSTATUS_SIE); }
static inline void irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
void traps_init(void);
__attribute__((noreturn)) void os_crash(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void os_shutdown(unsigned reason);
extern volatile u64 upcalls_taken, timer_irqs_taken;
extern volatile int irq_depth;                       /* > 0 while an interrupt handler runs */
static inline int in_interrupt(void) { return irq_depth > 0; }

/* ---- events (events.c) ---- */
typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);
void events_init(void);
void evtchn_do_upcall(void);
int evtchn_bind(evtchn_port_t port, evtchn_handler_t handler, void *data); /* handler + unmask */
void evtchn_unbind(evtchn_port_t port);                                       /* mask + forget handler */
long evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
long evtchn_bind_virq(u32 virq, evtchn_port_t *port);
long evtchn_bind_ipi(evtchn_port_t *port);
long evtchn_send(evtchn_port_t port);
long evtchn_close(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
void evtchn_clear(evtchn_port_t port);
int evtchn_is_pending(evtchn_port_t port);

/* ---- time (time.c) ---- */
#define TIMEBASE_HZ 10000000ULL
void time_init(void);
u64 monotonic_ns(void);             /* Xen system time from vcpu_time_info */
void timer_interrupt(void);
u64 ticks(void);                    /* periodic ticks since boot */
unsigned tick_hz(void);
/* Sleeps (interrupts on) until deadline_ns or until an interrupt ran a handler; callers loop on their
   condition. Never spins: WFI-equivalent SCHEDOP_block with the timer armed. */
void block_until(u64 deadline_ns);
void msleep(u64 ms);
typedef void (*tick_hook_t)(u64 tick);
void tick_hook_add(tick_hook_t hook);

/* ---- console (xencons.c) ---- */
void console_early_init(void);
void console_init(void);
void xen_console_io_write(const char *text, size_t length);
int console_read(char *buf, int max);  /* bytes from the ring's in-queue (or SBI getchar); 0 if none */
void console_flush(void);
int console_input_notifies(void); /* ring input raises the console event (else SBI getchar must be polled) */
const char *console_mode_name(void);
extern volatile int console_input_event;
extern u64 console_ring_bytes, console_ring_dropped;

/* ---- grant table (gnttab.c) ---- */
void gnttab_init(void);
grant_ref_t gnttab_grant_access(domid_t domid, xen_pfn_t frame, int readonly); /* 0 when none is free */
int gnttab_end_access(grant_ref_t ref);   /* 1 if ended; 0 while the grantee still reads or writes it */
unsigned gnttab_nr_frames(void);
void gnttab_self_test(void);             /* needs domid= on the cmd line */
extern domid_t my_domid;                  /* DOMID_SELF until something (cmd line domid=) tells us */

/* ---- memory (mm.c) and balloon (balloon.c) ---- */
#define RAM_BASE 0x80000000UL
#define RAM_FIRST_PFN (RAM_BASE >> PAGE_SHIFT)
void mm_init(void);
void *page_alloc(void);             /* a zeroed free RAM page, NULL if none */
void page_free(void *page);
void *pages_alloc_contig(unsigned long n); /* not zeroed */
u64 mm_free_pages(void);
u64 mm_populated_pages(void);
u64 mm_max_pages(void);
/* balloon helpers in mm.c: */
long mm_take_free_top(xen_pfn_t *pfns, long n);   /* free pages, highest first, now owned by the balloon */
void mm_mark_unpopulated(xen_pfn_t pfn);
void mm_return_unpopulated(xen_pfn_t pfn);        /* a ballooned page failed to leave: free again */
long mm_find_unpopulated(xen_pfn_t *pfns, long n); /* holes below maxmem, lowest first */
void mm_mark_populated_free(xen_pfn_t pfn);
void balloon_init(void);
long balloon_set_target(u64 target_pages);         /* returns the populated page count it reached */

/* ---- suspend and resume (suspend.c) ---- */
typedef void (*suspend_hook_t)(void);
typedef void (*suspend_resume_hook_t)(long rc); /* rc 0: in a new domain; 1: cancelled, where we were */
void suspend_init(void);  /* watches control/shutdown; needs xenbus */
void suspend_check(void); /* block_until calls it: suspends here if asked and nothing is in flight */
void suspend_set_app_hooks(suspend_hook_t before, suspend_resume_hook_t after);
void console_resume(void); /* xencons.c */

/* ---- apps (apps.c) ---- */
void app_run(const char *name);
