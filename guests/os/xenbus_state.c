/* The frontend's half of the xenbus handshake (spec §7, io/xenbus.h): reading a state node, switching
   our own, and waiting for the other end's to reach a state, woken by a watch on it (never by polling). */
#include "os.h"

const char *xenbus_state_name(int state)
{
    static const char *names[] = { "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
                                   "Closing", "Closed", "Reconfiguring", "Reconfigured" };
    return state >= 0 && state < (int)ARRAY_SIZE(names) ? names[state] : "invalid";
}

int xenbus_read_state(const char *state_path)
{
    u64 v;
    int rc = xenbus_read_u64(XBT_NIL, state_path, &v);
    if (rc == -XEN_ENOENT) return XenbusStateUnknown;
    if (rc < 0) return rc;
    return v <= XenbusStateReconfigured ? (int)v : -XEN_EINVAL;
}

struct switch_args { const char *path; int state; };

static int switch_body(xenbus_transaction_t t, void *data)
{
    struct switch_args *a = data;
    u64 current;
    if (xenbus_read_u64(t, a->path, &current) == 0 && current == (u64)a->state) return 0;
    return xenbus_printf(t, a->path, "%d", a->state);
}

int xenbus_switch_state(const char *dir, enum xenbus_state state)
{
    char path[192];
    if (snprintf(path, sizeof path, "%s/state", dir) >= (int)sizeof path) return -XEN_E2BIG;
    struct switch_args a = { path, state };
    return xenbus_transact(switch_body, &a);
}

int xenbus_wait_state(const char *state_path, u32 mask, u64 timeout_ms, int *last)
{
    struct xenbus_watch w = { .path = state_path };
    int rc = xenbus_watch(&w);
    if (rc < 0) return rc;
    u64 deadline = monotonic_ns() + timeout_ms * 1000000ULL;
    for (;;) {
        u32 seen = w.events;
        int s = xenbus_read_state(state_path);
        if (s < 0) {
            rc = s;
            break;
        }
        if (last) *last = s;
        if (mask & (1U << s)) {
            rc = s;
            break;
        }
        rc = xenbus_watch_wait(&w, seen, deadline);
        if (rc < 0) break;
    }
    xenbus_unwatch(&w);
    return rc;
}
