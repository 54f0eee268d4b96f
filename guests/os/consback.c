/* app=consback dom=D [port=P] [input=TEXT]: a console backend inside pvos, so the console ring driver
   can be tested end to end before the toolstack's backend exists. Domain D must have been created with
   this domain as its console backend (CreateDomain's ConsoleBackendDomain): then grant ref 0 of D is
   D's console page, granted to us, and D's console port P (default 1) is unbound with us as the remote.
   We bind P, read D's out ring by grant copy (indices first, then bytes), print each line as
   "[dD] text" through our own console, hand the space back (out_cons, by grant copy) and notify.
   With input=TEXT we type TEXT and CR into D's in ring once D's echo prompt appears, and Ctrl-D once
   TEXT has come back, which ends D's echo app. */
#include "os.h"

#define OFF_IN 0
#define OFF_OUT 1024
#define OFF_IDX 3072
static domid_t peer;
static u8 *buf;           /* a page of ours the copies land in / come from */
static volatile int kicked;
static evtchn_port_t local;

static s16 copy(int to_peer, u16 peer_offset, void *mine, u16 len)
{
    struct gnttab_copy op = { .len = len };
    struct gnttab_copy_ptr remote = { .ref_or_gmfn = GNTTAB_RESERVED_CONSOLE, .domid = peer, .offset = peer_offset };
    struct gnttab_copy_ptr self = { .ref_or_gmfn = (uintptr_t)mine >> PAGE_SHIFT, .domid = DOMID_SELF, .offset = (u16)((uintptr_t)mine & (PAGE_SIZE - 1)) };
    op.source = to_peer ? self : remote;
    op.dest = to_peer ? remote : self;
    op.flags = to_peer ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &op, 1);
    return rc ? (s16)rc : op.status;
}

static void kick(evtchn_port_t port, void *data) { kicked = 1; }

static char line[256];
static size_t line_len;
static int prompt_seen, input_sent, eof_sent;

static void type_into(const char *text, size_t len)
{
    u32 *idx = (u32 *)(buf + 2048);
    if (copy(0, OFF_IDX, idx, 16)) return;
    u32 in_cons = idx[0], in_prod = idx[1];
    for (size_t i = 0; i < len; i++) {
        if (in_prod - in_cons >= 1024) break;
        buf[3000] = (u8)text[i];
        copy(1, (u16)(OFF_IN + (in_prod & 1023)), buf + 3000, 1);
        in_prod++;
    }
    idx[1] = in_prod;
    copy(1, OFF_IDX + 4, &idx[1], 4); /* the bytes before the index that publishes them */
    evtchn_send(local);
}

static void got_line(const char *input)
{
    line[line_len] = 0;
    printf("[d%u] %s\n", peer, line);
    if (input && !input_sent && strncmp(line, "echo: type", 10) == 0) prompt_seen = 1;
    if (input && input_sent && !eof_sent && strcmp(line, input) == 0) {
        type_into("\x04", 1);
        eof_sent = 1;
    }
    line_len = 0;
}

static int service(const char *input)
{
    u32 *idx = (u32 *)(buf + 2048);
    if (copy(0, OFF_IDX, idx, 16)) return 0;
    u32 out_cons = idx[2], out_prod = idx[3];
    if (out_prod - out_cons > 2048) {
        printf("consback: d%u's out ring indices are corrupt (prod %u cons %u)\n", peer, out_prod, out_cons);
        out_cons = out_prod;
    }
    int progress = out_cons != out_prod;
    while (out_cons != out_prod) {
        u32 at = out_cons & 2047, n = MIN(out_prod - out_cons, 2048 - at);
        if (copy(0, (u16)(OFF_OUT + at), buf, (u16)n)) return 0;
        for (u32 i = 0; i < n; i++) {
            char c = (char)buf[i];
            if (c == '\r') continue;
            if (c == '\n' || line_len == sizeof line - 1) got_line(input);
            if (c != '\n') line[line_len++] = c;
        }
        out_cons += n;
    }
    if (progress) {
        idx[2] = out_cons;
        copy(1, OFF_IDX + 8, &idx[2], 4);
        evtchn_send(local);
    }
    if (prompt_seen && !input_sent) {
        type_into(input, strlen(input));
        type_into("\r", 1);
        input_sent = 1;
        progress = 1;
    }
    return progress;
}

void consback(void)
{
    peer = (domid_t)cmdline_u64("dom", DOMID_SELF);
    evtchn_port_t remote = (evtchn_port_t)cmdline_u64("port", 1);
    const char *input = cmdline_get("input");
    buf = page_alloc();
    long rc = evtchn_bind_interdomain(peer, remote, &local);
    printf("consback: d%u console port %u bound to our port %u (rc %ld)\n", peer, remote, local, rc);
    if (rc || !buf) os_crash("consback: cannot serve d%u", peer);
    evtchn_bind(local, kick, NULL);
    for (;;) {
        kicked = 0;
        if (service(input)) continue;
        xlen_t was = irq_save();
        int wait = !kicked;
        irq_restore(was);
        if (wait) block_until(monotonic_ns() + 1000000000ULL);
    }
}
