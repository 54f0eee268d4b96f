/* app=xenbus-test: the xenstore client end to end against a real xenstored, for
   tests/Disagg.Toolstack.Tests/PvosXenbusTests. Every step prints "xenbus-test: <what> ok|FAIL ...";
   the last line is "xenbus-test: PASS" or "xenbus-test: FAILED n". The test plays the other end:
   it writes data/xenbus-test/ping = "pong" when the guest says it is watching, and
   data/xenbus-test/be/state = 4 (Connected) when the guest waits for a backend. */
#include "os.h"

#define BASE "data/xenbus-test"
static int failures;

static void check(int ok, const char *what, int rc, const char *detail)
{
    if (!ok) failures++;
    printf("xenbus-test: %s %s (rc %d%s%s)\n", what, ok ? "ok" : "FAIL", rc, detail ? ", " : "", detail ? detail : "");
}

static int bump_counter(xenbus_transaction_t t, void *data)
{
    u64 v = 0;
    int rc = xenbus_read_u64(t, BASE "/counter", &v);
    if (rc < 0 && rc != -XEN_ENOENT) return rc;
    *(u64 *)data = v + 1;
    return xenbus_printf(t, BASE "/counter", "%llu", v + 1);
}

static void requests(void)
{
    char buf[128];
    int rc = xenbus_write(XBT_NIL, BASE "/greeting", "hello from pvos");
    check(rc == 0, "write", rc, NULL);
    rc = xenbus_read(XBT_NIL, BASE "/greeting", buf, sizeof buf);
    check(rc == 15 && strcmp(buf, "hello from pvos") == 0, "read back", rc, buf);

    char abs[96];
    snprintf(abs, sizeof abs, "/local/domain/%u/" BASE "/greeting", xenbus_domid());
    rc = xenbus_read(XBT_NIL, abs, buf, sizeof buf);
    check(rc == 15 && strcmp(buf, "hello from pvos") == 0, "absolute path = relative path", rc, abs);

    rc = xenbus_mkdir(XBT_NIL, BASE "/dir");
    int rc2 = xenbus_write(XBT_NIL, BASE "/dir/x", "1");
    int rc3 = xenbus_write(XBT_NIL, BASE "/dir/y", "2");
    check(rc == 0 && rc2 == 0 && rc3 == 0, "mkdir and two writes", rc ? rc : rc2 ? rc2 : rc3, NULL);
    rc = xenbus_directory(XBT_NIL, BASE "/dir", buf, sizeof buf);
    check(rc == 2 && strcmp(buf, "x") == 0 && strcmp(buf + 2, "y") == 0, "directory", rc, "x y");
    rc = xenbus_rm(XBT_NIL, BASE "/dir");
    rc2 = xenbus_read(XBT_NIL, BASE "/dir/x", buf, sizeof buf);
    check(rc == 0 && rc2 == -XEN_ENOENT, "rm, then read is ENOENT", rc2, NULL);

    rc = xenbus_read(XBT_NIL, "/local/domain/0/backend", buf, sizeof buf);
    check(rc == -XEN_EACCES || rc == -XEN_ENOENT, "another domain's dir refused", rc, NULL);
    rc = xenbus_write(XBT_NIL, "name", "renamed");
    check(rc == -XEN_EACCES, "write to our read-only name refused", rc, NULL);
}

static void transactions(void)
{
    xenbus_transaction_t t;
    u64 v = 0;
    int rc = xenbus_write(XBT_NIL, BASE "/counter", "10");
    rc = rc ? rc : xenbus_transaction_start(&t);
    check(rc == 0, "transaction start", rc, NULL);
    if (rc) return;
    xenbus_read_u64(t, BASE "/counter", &v);
    xenbus_write(XBT_NIL, BASE "/counter", "20"); /* outside: the transaction must conflict */
    xenbus_printf(t, BASE "/counter", "%llu", v + 1);
    rc = xenbus_transaction_end(t, 0);
    check(rc == -XEN_EAGAIN, "conflicting commit is EAGAIN", rc, NULL);

    u64 got = 0;
    rc = xenbus_transact(bump_counter, &got);
    int rc2 = xenbus_read_u64(XBT_NIL, BASE "/counter", &v);
    check(rc == 0 && rc2 == 0 && got == 21 && v == 21, "transact read-modify-write", rc, NULL);

    rc = xenbus_transaction_start(&t);
    if (rc == 0) {
        xenbus_write(t, BASE "/aborted", "never");
        rc = xenbus_transaction_end(t, 1);
    }
    char buf[16];
    rc2 = xenbus_read(XBT_NIL, BASE "/aborted", buf, sizeof buf);
    check(rc == 0 && rc2 == -XEN_ENOENT, "aborted transaction leaves nothing", rc2, NULL);
}

static volatile u32 handler_calls;
static void ping_handler(struct xenbus_watch *w, const char *path) { handler_calls++; }

static void watches(void)
{
    struct xenbus_watch w = { .path = BASE "/ping", .handler = ping_handler };
    int rc = xenbus_watch(&w);
    check(rc == 0, "watch", rc, NULL);
    if (rc) return;
    rc = xenbus_watch_wait(&w, 0, monotonic_ns() + 5000000000ULL);
    check(rc == 1, "watch fires once when set", rc, w.last_path);
    xenbus_write(XBT_NIL, BASE "/ready", "watching");
    printf("xenbus-test: watching " BASE "/ping\n");
    char buf[32] = "";
    u64 deadline = monotonic_ns() + 60000000000ULL;
    for (;;) {
        u32 seen = w.events;
        if (xenbus_read(XBT_NIL, BASE "/ping", buf, sizeof buf) >= 0 && strcmp(buf, "pong") == 0) break;
        if (xenbus_watch_wait(&w, seen, deadline) < 0) break;
    }
    check(strcmp(buf, "pong") == 0 && handler_calls >= 2, "watch fired", (int)w.events, w.last_path);
    rc = xenbus_unwatch(&w);
    check(rc == 0, "unwatch", rc, NULL);
}

static void states(void)
{
    int rc = xenbus_switch_state(BASE "/fe", XenbusStateInitialised);
    int s = xenbus_read_state(BASE "/fe/state");
    check(rc == 0 && s == XenbusStateInitialised, "switch state", rc, xenbus_state_name(s));
    s = xenbus_read_state(BASE "/be/state");
    check(s == XenbusStateUnknown, "missing state node reads Unknown", s, NULL);
    printf("xenbus-test: waiting for " BASE "/be/state\n");
    int last = -1;
    s = xenbus_wait_state(BASE "/be/state", 1U << XenbusStateConnected, 60000, &last);
    check(s == XenbusStateConnected, "waited for the other end: Connected", s, xenbus_state_name(last));
    s = xenbus_wait_state(BASE "/be/state", 1U << XenbusStateClosed, 300, &last);
    check(s == -XEN_ETIMEDOUT && last == XenbusStateConnected, "wait times out", s, xenbus_state_name(last));
    xenbus_switch_state(BASE "/fe", XenbusStateConnected);
}

void xenbus_test(void)
{
    printf("xenbus-test: xenstored %s, domid %u\n", xenbus_available() ? "attached" : "NOT attached", xenbus_domid());
    if (!xenbus_available()) failures++;
    else {
        requests();
        transactions();
        watches();
        states();
    }
    printf("xenbus-test: %llu requests, %llu replies, %llu errors, %llu timeouts, %llu watch events, %llu stray\n",
           xenbus_stats.requests, xenbus_stats.replies, xenbus_stats.errors, xenbus_stats.timeouts,
           xenbus_stats.watch_events, xenbus_stats.stray_replies + xenbus_stats.stray_events);
    if (failures) printf("xenbus-test: FAILED %d\n", failures);
    else printf("xenbus-test: PASS\n");
}
