/*
 * xs-conformance: Debian's libxenstore (the C library Xen's own tools and most clients use) driving
 * disagg-xenstored over its Unix socket (XENSTORED_PATH). One case per run, named on the command line;
 * prints what failed and exits 1, or exits 0. Each case uses its own subtree (/conf/CASE), so cases
 * may share one server. The expectations are what Xen's C xenstored does.
 *
 *   XENSTORED_PATH=SOCKET xs-conformance CASE
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int failures;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, " (errno %d %s)\n", errno, strerror(errno));         \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static struct xs_handle *open_or_die(void)
{
    struct xs_handle *h = xs_open(0);
    if (!h) {
        perror("xs_open");
        exit(2);
    }
    return h;
}

/* The value at path (in t) equals want; want NULL: the read fails with errno want_errno. */
static void expect_read(struct xs_handle *h, xs_transaction_t t, const char *path, const char *want, int want_errno)
{
    unsigned int len = 0;
    errno = 0;
    char *got = xs_read(h, t, path, &len);
    if (want == NULL) {
        CHECK(got == NULL && errno == want_errno, "read %s: wanted errno %d, got '%s'", path, want_errno, got ? got : "(null)");
    } else {
        CHECK(got != NULL && len == strlen(want) && memcmp(got, want, len) == 0, "read %s: wanted '%s', got '%s'", path, want, got ? got : "(null)");
    }
    free(got);
}

static bool write_str(struct xs_handle *h, xs_transaction_t t, const char *path, const char *value)
{
    return xs_write(h, t, path, value, strlen(value));
}

/* Waits up to ms for a watch event; fills path/token (caller frees *vec); false on timeout. */
static bool next_event(struct xs_handle *h, int ms, char ***vec)
{
    *vec = xs_check_watch(h);
    if (*vec)
        return true;
    struct pollfd p = { .fd = xs_fileno(h), .events = POLLIN };
    while (poll(&p, 1, ms) > 0) {
        *vec = xs_check_watch(h);
        if (*vec)
            return true;
    }
    return false;
}

static void expect_event(struct xs_handle *h, const char *path, const char *token)
{
    char **vec = NULL;
    bool got = next_event(h, 5000, &vec);
    CHECK(got, "no watch event for %s", path);
    if (got) {
        CHECK(strcmp(vec[XS_WATCH_PATH], path) == 0 && strcmp(vec[XS_WATCH_TOKEN], token) == 0,
              "event: wanted %s/%s, got %s/%s", path, token, vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN]);
        free(vec);
    }
}

static void expect_no_event(struct xs_handle *h, int ms)
{
    char **vec = NULL;
    bool got = next_event(h, ms, &vec);
    CHECK(!got, "unexpected event %s", got ? vec[XS_WATCH_PATH] : "");
    free(vec);
}

static void nodes(struct xs_handle *h)
{
    CHECK(write_str(h, XBT_NULL, "/conf/nodes/a/b", "hello"), "write");
    expect_read(h, XBT_NULL, "/conf/nodes/a/b", "hello", 0);
    expect_read(h, XBT_NULL, "/conf/nodes/a", "", 0); /* implicitly created parent: empty value */
    CHECK(xs_write(h, XBT_NULL, "/conf/nodes/bin", "x\0y", 3), "binary write");
    unsigned int len;
    char *bin = xs_read(h, XBT_NULL, "/conf/nodes/bin", &len);
    CHECK(bin && len == 3 && memcmp(bin, "x\0y", 3) == 0, "binary value round trip");
    free(bin);
    expect_read(h, XBT_NULL, "/conf/nodes/missing", NULL, ENOENT);
    expect_read(h, XBT_NULL, "/conf/nodes/bad//path", NULL, EINVAL);

    CHECK(xs_mkdir(h, XBT_NULL, "/conf/nodes/dir/sub"), "mkdir");
    CHECK(xs_mkdir(h, XBT_NULL, "/conf/nodes/dir/sub"), "mkdir of an existing node succeeds");
    unsigned int n = 0;
    char **names = xs_directory(h, XBT_NULL, "/conf/nodes", &n);
    CHECK(names && n == 3 && !strcmp(names[0], "a") && !strcmp(names[1], "bin") && !strcmp(names[2], "dir"), "directory in creation order (%u)", n);
    free(names);
    names = xs_directory(h, XBT_NULL, "/conf/nodes/missing", &n);
    CHECK(names == NULL && errno == ENOENT, "directory of a missing node");

    CHECK(xs_rm(h, XBT_NULL, "/conf/nodes/dir"), "rm of a subtree");
    expect_read(h, XBT_NULL, "/conf/nodes/dir/sub", NULL, ENOENT);
    CHECK(xs_rm(h, XBT_NULL, "/conf/nodes/dir"), "rm of a missing node whose parent exists succeeds");
    errno = 0;
    CHECK(!xs_rm(h, XBT_NULL, "/conf/nodes/nope/deeper") && errno == ENOENT, "rm below a missing parent");
}

/* A child list longer than one 4096-byte reply: libxenstore falls back to XS_DIRECTORY_PART. */
static void long_directory(struct xs_handle *h)
{
    char path[128];
    xs_transaction_t t = xs_transaction_start(h);
    for (int i = 0; i < 300; i++) {
        snprintf(path, sizeof path, "/conf/long/child-with-a-long-name-%04d", i);
        CHECK(write_str(h, t, path, "v"), "write %s", path);
    }
    CHECK(xs_transaction_end(h, t, false), "commit");
    unsigned int n = 0;
    char **names = xs_directory(h, XBT_NULL, "/conf/long", &n);
    CHECK(names && n == 300, "300 children, got %u", n);
    if (names && n == 300)
        CHECK(!strcmp(names[0], "child-with-a-long-name-0000") && !strcmp(names[299], "child-with-a-long-name-0299"), "first and last names");
    free(names);
}

static void permissions(struct xs_handle *h)
{
    CHECK(write_str(h, XBT_NULL, "/conf/perms/node", "v"), "write");
    struct xs_permissions set[2] = { { .id = 3, .perms = XS_PERM_NONE }, { .id = 5, .perms = XS_PERM_READ } };
    CHECK(xs_set_permissions(h, XBT_NULL, "/conf/perms/node", set, 2), "set perms");
    unsigned int n = 0;
    struct xs_permissions *got = xs_get_permissions(h, XBT_NULL, "/conf/perms/node", &n);
    CHECK(got && n == 2 && got[0].id == 3 && got[0].perms == XS_PERM_NONE && got[1].id == 5 && got[1].perms == XS_PERM_READ, "perms round trip");
    free(got);

    /* A child created below inherits its parent's permissions. */
    CHECK(write_str(h, XBT_NULL, "/conf/perms/node/child", "c"), "write child");
    got = xs_get_permissions(h, XBT_NULL, "/conf/perms/node/child", &n);
    CHECK(got && n == 2 && got[0].id == 3 && got[1].id == 5, "inherited perms");
    free(got);

    errno = 0;
    CHECK(!xs_set_permissions(h, XBT_NULL, "/conf/perms/missing", set, 2) && errno == ENOENT, "set perms on a missing node");
    got = xs_get_permissions(h, XBT_NULL, "/conf/perms/missing", &n);
    CHECK(got == NULL && errno == ENOENT, "get perms of a missing node");

    /* Inside a transaction: private until commit. */
    xs_transaction_t t = xs_transaction_start(h);
    struct xs_permissions one = { .id = 0, .perms = XS_PERM_READ };
    CHECK(xs_set_permissions(h, t, "/conf/perms/node", &one, 1), "set perms in a transaction");
    got = xs_get_permissions(h, XBT_NULL, "/conf/perms/node", &n);
    CHECK(got && n == 2, "outside still sees the old perms");
    free(got);
    CHECK(xs_transaction_end(h, t, false), "commit");
    got = xs_get_permissions(h, XBT_NULL, "/conf/perms/node", &n);
    CHECK(got && n == 1 && got[0].id == 0 && got[0].perms == XS_PERM_READ, "committed perms");
    free(got);
}

static void watches(struct xs_handle *h)
{
    struct xs_handle *w = open_or_die();
    CHECK(xs_watch(w, "/conf/watch", "tok"), "watch");
    expect_event(w, "/conf/watch", "tok"); /* a new watch fires once at once */
    CHECK(write_str(h, XBT_NULL, "/conf/watch/a", "1"), "write");
    expect_event(w, "/conf/watch/a", "tok");
    CHECK(xs_rm(h, XBT_NULL, "/conf/watch/a"), "rm");
    expect_event(w, "/conf/watch/a", "tok");
    CHECK(write_str(h, XBT_NULL, "/conf/elsewhere", "1"), "write elsewhere");
    expect_no_event(w, 200);

    /* A transaction's changes fire at its commit, not before; an aborted one never. */
    xs_transaction_t t = xs_transaction_start(h);
    CHECK(write_str(h, t, "/conf/watch/tx", "1"), "write in a transaction");
    expect_no_event(w, 200);
    CHECK(xs_transaction_end(h, t, false), "commit");
    expect_event(w, "/conf/watch/tx", "tok");
    t = xs_transaction_start(h);
    CHECK(write_str(h, t, "/conf/watch/tx", "2"), "write in a transaction");
    CHECK(xs_transaction_end(h, t, true), "abort");
    expect_no_event(w, 200);

    errno = 0;
    CHECK(!xs_watch(w, "/conf/watch", "tok") && errno == EEXIST, "the same watch twice");
    CHECK(xs_unwatch(w, "/conf/watch", "tok"), "unwatch");
    errno = 0;
    CHECK(!xs_unwatch(w, "/conf/watch", "tok") && errno == ENOENT, "unwatch of a watch that is gone");
    CHECK(write_str(h, XBT_NULL, "/conf/watch/b", "1"), "write");
    expect_no_event(w, 200);

    CHECK(xs_watch(w, "@introduceDomain", "intro"), "special watch");
    expect_event(w, "@introduceDomain", "intro");
    xs_close(w);
}

/* Issue 16: a transaction keeps its own copy of what it read; a change outside makes its commit EAGAIN. */
static void transaction_isolation(struct xs_handle *h)
{
    struct xs_handle *other = open_or_die();
    CHECK(write_str(h, XBT_NULL, "/conf/iso/a", "1"), "write");
    xs_transaction_t t = xs_transaction_start(h);
    CHECK(t != XBT_NULL, "start");
    expect_read(h, t, "/conf/iso/a", "1", 0);
    unsigned int n = 0;
    char **names = xs_directory(h, t, "/conf/iso", &n);
    CHECK(names && n == 1, "directory in the transaction");
    free(names);

    CHECK(write_str(other, XBT_NULL, "/conf/iso/a", "2"), "outside write");
    CHECK(write_str(other, XBT_NULL, "/conf/iso/b", "new"), "outside create");
    expect_read(h, t, "/conf/iso/a", "1", 0); /* still what the transaction first saw */
    names = xs_directory(h, t, "/conf/iso", &n);
    CHECK(names && n == 1 && !strcmp(names[0], "a"), "the transaction's copy of the directory (%u)", n);
    free(names);
    expect_read(h, XBT_NULL, "/conf/iso/a", "2", 0);
    errno = 0;
    CHECK(!xs_transaction_end(h, t, false) && errno == EAGAIN, "commit after an outside change is EAGAIN");
    expect_read(h, XBT_NULL, "/conf/iso/a", "2", 0);

    /* Its own writes: visible inside at once, outside only after commit. */
    t = xs_transaction_start(h);
    CHECK(write_str(h, t, "/conf/iso/c", "mine"), "write in a transaction");
    expect_read(h, t, "/conf/iso/c", "mine", 0);
    expect_read(other, XBT_NULL, "/conf/iso/c", NULL, ENOENT);
    CHECK(xs_transaction_end(h, t, false), "commit");
    expect_read(other, XBT_NULL, "/conf/iso/c", "mine", 0);

    /* Aborted: nothing happened. */
    t = xs_transaction_start(h);
    CHECK(xs_rm(h, t, "/conf/iso/c"), "rm in a transaction");
    expect_read(h, t, "/conf/iso/c", NULL, ENOENT);
    CHECK(xs_transaction_end(h, t, true), "abort");
    expect_read(h, XBT_NULL, "/conf/iso/c", "mine", 0);
    xs_close(other);
}

static void transaction_conflict(struct xs_handle *h)
{
    struct xs_handle *other = open_or_die();
    CHECK(write_str(h, XBT_NULL, "/conf/race/n", "0"), "write");
    xs_transaction_t t1 = xs_transaction_start(h);
    xs_transaction_t t2 = xs_transaction_start(other);
    expect_read(h, t1, "/conf/race/n", "0", 0);
    expect_read(other, t2, "/conf/race/n", "0", 0);
    CHECK(write_str(h, t1, "/conf/race/n", "1"), "t1 write");
    CHECK(write_str(other, t2, "/conf/race/n", "2"), "t2 write");
    CHECK(xs_transaction_end(h, t1, false), "the first commit wins");
    errno = 0;
    CHECK(!xs_transaction_end(other, t2, false) && errno == EAGAIN, "the second is EAGAIN");
    expect_read(h, XBT_NULL, "/conf/race/n", "1", 0);

    /* Two transactions adding children to one directory conflict too (its child list changed). */
    t1 = xs_transaction_start(h);
    t2 = xs_transaction_start(other);
    CHECK(write_str(h, t1, "/conf/race/x", "1"), "t1 create");
    CHECK(write_str(other, t2, "/conf/race/y", "1"), "t2 create");
    CHECK(xs_transaction_end(h, t1, false), "first");
    errno = 0;
    CHECK(!xs_transaction_end(other, t2, false) && errno == EAGAIN, "second is EAGAIN");

    /* A retried transaction succeeds (the loop every libxenstore client writes). */
    int tries = 0;
    for (;;) {
        xs_transaction_t t = xs_transaction_start(other);
        expect_read(other, t, "/conf/race/n", "1", 0);
        CHECK(write_str(other, t, "/conf/race/n", "3"), "retry write");
        tries++;
        if (xs_transaction_end(other, t, false) || errno != EAGAIN || tries > 3)
            break;
    }
    CHECK(tries == 1, "retried %d times with no competition", tries);
    expect_read(h, XBT_NULL, "/conf/race/n", "3", 0);

    errno = 0;
    CHECK(!xs_transaction_end(h, 999999, false) && errno == ENOENT, "ending an unknown transaction");
    xs_close(other);
}

/* Many transactions that change nothing (the test runner checks they cost no journal sync). */
static void empty_transactions(struct xs_handle *h)
{
    CHECK(write_str(h, XBT_NULL, "/conf/empty/n", "v"), "write");
    /* Let the setup write's sync finish before counting: the runner reads the sync count after this. */
    for (int i = 0; i < 100; i++) {
        xs_transaction_t t = xs_transaction_start(h);
        CHECK(t != XBT_NULL, "start");
        if (i % 2)
            expect_read(h, t, "/conf/empty/n", "v", 0);
        CHECK(xs_transaction_end(h, t, false), "commit of nothing");
    }
}

static void domains(struct xs_handle *h)
{
    char *path = xs_get_domain_path(h, 7);
    CHECK(path && !strcmp(path, "/local/domain/7"), "domain path %s", path ? path : "(null)");
    free(path);
    CHECK(xs_is_domain_introduced(h, 0), "domain 0 is always introduced");
    CHECK(!xs_is_domain_introduced(h, 42), "domain 42 is not");
    errno = 0;
    CHECK(!xs_release_domain(h, 42) && errno == ENOENT, "release of an unknown domain");
    errno = 0;
    CHECK(!xs_resume_domain(h, 42) && errno == ENOENT, "resume of an unknown domain");
    errno = 0;
    CHECK(!xs_set_target(h, 42, 43) && errno == ENOENT, "set target of an unknown domain");
    errno = 0;
    CHECK(!xs_introduce_domain(h, 0, 1234, 5) && errno == EINVAL, "domain 0 is never introduced");
}

static void control(struct xs_handle *h)
{
    char *status = xs_control_command(h, "status", NULL, 0);
    CHECK(status && strstr(status, "nodes ") != NULL, "status: %s", status ? status : "(null)");
    free(status);
    char *quota = xs_control_command(h, "quota", NULL, 0);
    CHECK(quota && strstr(quota, "transactions") != NULL, "quota: %s", quota ? quota : "(null)");
    free(quota);
    errno = 0;
    char *bad = xs_control_command(h, "no-such-command", NULL, 0);
    CHECK(bad == NULL && errno == EINVAL, "unknown control command");
    free(bad);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(struct xs_handle *);
    } cases[] = {
        { "nodes", nodes }, { "long-directory", long_directory }, { "permissions", permissions },
        { "watches", watches }, { "transaction-isolation", transaction_isolation },
        { "transaction-conflict", transaction_conflict }, { "empty-transactions", empty_transactions },
        { "domains", domains }, { "control", control },
    };
    if (argc != 2) {
        fprintf(stderr, "usage: XENSTORED_PATH=SOCKET %s CASE\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!strcmp(cases[i].name, argv[1])) {
            struct xs_handle *h = open_or_die();
            cases[i].run(h);
            xs_close(h);
            if (failures)
                fprintf(stderr, "%s: %d checks failed\n", argv[1], failures);
            return failures ? 1 : 0;
        }
    }
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
}
