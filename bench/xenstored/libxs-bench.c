/*
 * libxs-bench: Debian's libxenstore (what Xen's own tools link) as one client of a xenstored socket:
 * requests per second, one at a time, for a read, a directory listing, an empty transaction (start, end)
 * and a read-modify-write transaction. Prints "NAME OPS_PER_SECOND MEAN_US" lines.
 *
 *   XENSTORED_PATH=SOCKET libxs-bench SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void fail(const char *what)
{
    perror(what);
    exit(1);
}

static void read_once(struct xs_handle *h)
{
    unsigned int len;
    char *v = xs_read(h, XBT_NULL, "/libxs/key", &len);
    if (!v)
        fail("read");
    free(v);
}

static void directory_once(struct xs_handle *h)
{
    unsigned int n;
    char **names = xs_directory(h, XBT_NULL, "/libxs", &n);
    if (!names)
        fail("directory");
    free(names);
}

static void empty_tx_once(struct xs_handle *h)
{
    xs_transaction_t t = xs_transaction_start(h);
    if (t == XBT_NULL || !xs_transaction_end(h, t, false))
        fail("empty transaction");
}

static void rmw_tx_once(struct xs_handle *h)
{
    for (;;) {
        xs_transaction_t t = xs_transaction_start(h);
        unsigned int len;
        char *v = xs_read(h, t, "/libxs/counter", &len);
        char next[32];
        snprintf(next, sizeof next, "%ld", v ? atol(v) + 1 : 0);
        free(v);
        if (!xs_write(h, t, "/libxs/counter", next, strlen(next)))
            fail("write in transaction");
        if (xs_transaction_end(h, t, false))
            return;
        /* EAGAIN: retry, as every libxenstore client does */
    }
}

static void run(struct xs_handle *h, const char *name, void (*op)(struct xs_handle *), double seconds)
{
    for (int i = 0; i < 100; i++)
        op(h); /* warm-up */
    long n = 0;
    double start = now(), end = start + seconds, t;
    do {
        for (int i = 0; i < 16; i++, n++)
            op(h);
    } while ((t = now()) < end);
    printf("%s %.1f %.1f\n", name, n / (t - start), (t - start) * 1e6 / n);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    struct xs_handle *h = xs_open(0);
    if (!h)
        fail("xs_open");
    if (!xs_write(h, XBT_NULL, "/libxs/key", "0123456789abcdef", 16))
        fail("setup");
    for (int i = 0; i < 8; i++) {
        char path[64];
        snprintf(path, sizeof path, "/libxs/child-%d", i);
        if (!xs_write(h, XBT_NULL, path, "v", 1))
            fail("setup");
    }
    run(h, "read", read_once, seconds);
    run(h, "directory", directory_once, seconds);
    run(h, "empty-transaction", empty_tx_once, seconds);
    run(h, "rmw-transaction", rmw_tx_once, seconds);
    xs_close(h);
    return 0;
}
