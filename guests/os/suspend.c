/* Suspend and resume, as a Xen PV guest does them (docs/SAVE-RESTORE.md "Suspend"; Linux's
   drivers/xen/manage.c). The toolstack writes control/shutdown = "suspend"; our watch on it only reads the
   value and raises a flag (watch handlers run in interrupt context). The thread suspends at its next sleep,
   in block_until, where no driver is in the middle of its ring and once no xenstore request awaits a reply:
   it acknowledges by clearing the node, lets the app note what it wants (mem-check's checksum), flushes the
   console and calls SCHEDOP_shutdown(SHUTDOWN_suspend). That call returns
     0  in a new domain, after a restore or a migration: another domain id, a new xenstored connection, new
        backends. The console and store ports are read again from start_info (the kernel rewrote them),
        every xenstore watch is registered again, and the frontends reconnect to fresh rings at their next
        poll (blkfront issues again every request that had no response);
     1  the suspend was cancelled (save -c / -p, a failed save or migration): we are where we were, rings,
        grants and event channels still connected; nothing to do. */
#include "os.h"
#include "netfront.h"

static volatile int suspend_requested;
static int suspending;
static u64 suspends, resumes_new, resumes_cancelled;
static suspend_hook_t app_before;
static suspend_resume_hook_t app_after;

void suspend_set_app_hooks(suspend_hook_t before, suspend_resume_hook_t after)
{
    app_before = before;
    app_after = after;
}

static void request_read(int err, const char *body, u32 len, void *data)
{
    if (err == 0 && strcmp(body, "suspend") == 0) suspend_requested = 1;
}

static void control_changed(struct xenbus_watch *w, const char *path)
{
    int rc = xenbus_read_async("control/shutdown", request_read, NULL);
    if (rc) printf("pvos: suspend: cannot read control/shutdown: %d\n", rc);
}

static struct xenbus_watch control_watch = { .path = "control/shutdown", .handler = control_changed };

void suspend_init(void)
{
    if (!xenbus_available()) return;
    int rc = xenbus_watch(&control_watch);
    if (rc) printf("pvos: suspend: cannot watch control/shutdown: %d\n", rc);
}

static void suspend_now(void)
{
    suspending = 1;
    suspend_requested = 0;
    xenbus_write(XBT_NIL, "control/shutdown", ""); /* the acknowledgement the toolstack may look for */
    /* Our own watch fires on that write and reads the node: let that settle (at most 100 ms), so no
       request of ours is stranded with the old xenstored. */
    u64 quiet_by = monotonic_ns() + 100000000ULL;
    while (xenbus_busy() && monotonic_ns() < quiet_by) block_until(monotonic_ns() + 1000000ULL);
    suspends++;
    printf("pvos: suspending (SHUTDOWN_suspend)\n");
    if (app_before) app_before();
    console_flush();
    struct sched_shutdown s = { .reason = SHUTDOWN_suspend };
    xlen_t f = irq_save(); /* no handler runs on stale ports before they are fixed up */
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
    if (rc == 0) console_resume();
    irq_restore(f);
    if (rc == 0) {
        resumes_new++;
        printf("pvos: resumed in a new domain (suspend returned 0): reconnecting\n");
        xenbus_resume();
        blkfront_resume();
        netfront_resume();
    } else {
        resumes_cancelled++;
        printf("pvos: suspend cancelled (returned %ld): carrying on where we were\n", rc);
    }
    if (app_after) app_after(rc);
    suspending = 0;
}

void suspend_check(void)
{
    if (!suspend_requested || suspending || in_interrupt() || xenbus_busy()) return;
    suspend_now();
}
