/* netfront's handshake with its backend through xenstore (spec §7, §9), and the reconnect that lets
   netback die (ARCHITECTURE §6). The frontend directory device/vif/<n> (the toolstack wrote backend,
   backend-id, mac) gets our keys: tx-ring-ref, rx-ring-ref, event-channel, request-rx-copy=1,
   feature-rx-notify=1 (we notify when we post rx buffers, so the backend need not poll) and
   feature-no-csum-offload=1 (every frame we take must carry complete checksums: our stack checks
   them). Keys and our state Connected go in one transaction, so a backend never sees one without
   the other. A watch on the backend's state node only flags a change (it fires in interrupt context);
   the thread acts on it in the next net_poll, where xenstore calls may block:
     backend InitWait, we have nothing published   -> new rings, grants, rx buffers; keys; Connected
     backend Connected, ours published             -> link up (a gratuitous ARP lets the switch learn us)
     backend InitWait again after it was Connected -> it restarted: rings kept, our state stays Connected;
                                                      a netback resumes the same rings (docs/NETBACK.md,
                                                      Recovery), so frames we queue meanwhile wait in the tx
                                                      ring and go when it is back; on Connected, a gratuitous
                                                      ARP (its MAC table is new)
     backend anything else while we are up          -> link down: rings torn down, our state Initialising;
                                                      on InitWait, the whole dance again
   As Linux's netfront does, a backend that does not offer feature-rx-copy is refused. */
#include "netfront.h"

enum { NF_WAITING, NF_CONNECTING, NF_CONNECTED, NF_RESUMING, NF_REFUSED };

static struct netfront the_netfront;
static struct xenbus_watch backend_watch;

static void backend_state_fired(struct xenbus_watch *w, const char *path)
{
    struct netfront *nf = w->data;
    nf->backend_changed = 1;
    nf->nif.kicked = 1;
}

static int nf_poll(struct netif *nif);

static int read_key(const char *dir, const char *key, char *buf, size_t size)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    int rc = xenbus_read(XBT_NIL, path, buf, size);
    return rc < 0 ? rc : 0;
}

static int publish_body(xenbus_transaction_t t, void *data)
{
    struct netfront *nf = data;
    char path[64];
    int rc = 0;
#define KEY(name, fmt, value) \
    if (rc >= 0) { snprintf(path, sizeof path, "%s/" name, nf->dir); rc = xenbus_printf(t, path, fmt, value); }
    KEY("tx-ring-ref", "%u", nf->tx_ref);
    KEY("rx-ring-ref", "%u", nf->rx_ref);
    KEY("event-channel", "%u", nf->port);
    KEY("request-rx-copy", "%u", 1u);
    KEY("feature-rx-notify", "%u", 1u);
    KEY("feature-no-csum-offload", "%u", 1u);
    KEY("state", "%d", XenbusStateConnected);
#undef KEY
    return rc;
}

static void link_down(struct netfront *nf, const char *why)
{
    if (nf->phase == NF_WAITING) return;
    printf("netfront: %s: backend %s; link down\n", nf->dir, why);
    netfront_rings_teardown(nf);
    nf->phase = NF_WAITING;
    xenbus_switch_state(nf->dir, XenbusStateInitialising);
}

static void connect(struct netfront *nf)
{
    char value[16];
    if (read_key(nf->backend, "feature-rx-copy", value, sizeof value) < 0 || strcmp(value, "1") != 0) {
        printf("netfront: %s: backend %s offers no feature-rx-copy; not connecting\n", nf->dir, nf->backend);
        nf->phase = NF_REFUSED;
        return;
    }
    int rc = netfront_rings_setup(nf);
    if (rc == 0) rc = xenbus_transact(publish_body, nf);
    if (rc < 0) {
        printf("netfront: %s: cannot connect: %d\n", nf->dir, rc);
        netfront_rings_teardown(nf);
        return;
    }
    nf->stats.connects++;
    nf->phase = NF_CONNECTING;
    printf("netfront: %s: rings published (tx-ring-ref %u, rx-ring-ref %u, event-channel %u, %d rx buffers)\n", nf->dir,
           nf->tx_ref, nf->rx_ref, nf->port, NF_RX_BUFS);
}

static void backend_changed(struct netfront *nf)
{
    char path[128];
    snprintf(path, sizeof path, "%s/state", nf->backend);
    int state = xenbus_read_state(path);
    if (state < 0) return; /* xenstore trouble: the next watch event tries again */
    switch (state) {
    case XenbusStateInitWait:
        if (nf->phase == NF_CONNECTED && nf->broken) link_down(nf, "restarted (InitWait again) after it broke its ring");
        if (nf->phase == NF_CONNECTED) {
            /* Keep the rings (the "keep its rings" choice of docs/NETBACK.md): tearing them down would drop what
               is queued in them and cost a second handshake, a whole extra outage per netback restart. */
            nf->phase = NF_RESUMING;
            printf("netfront: %s: backend restarted (InitWait again); rings kept\n", nf->dir);
        }
        if (nf->phase == NF_WAITING) connect(nf);
        break;
    case XenbusStateConnected:
        if (nf->phase == NF_RESUMING) {
            nf->phase = NF_CONNECTED;
            nf->stats.resumes++;
            printf("netfront: %s: backend connected again; rings resumed\n", nf->dir);
            if (nf->nif.ip) arp_request(&nf->nif, nf->nif.ip); /* the restarted switch learns our port again */
        } else if (nf->phase == NF_CONNECTING) {
            nf->phase = NF_CONNECTED;
            char ip[16];
            ip_format(nf->nif.ip, ip);
            printf("netfront: %s: connected to backend d%u, mac %02x:%02x:%02x:%02x:%02x:%02x, ip %s\n", nf->dir, nf->backend_id,
                   nf->nif.mac[0], nf->nif.mac[1], nf->nif.mac[2], nf->nif.mac[3], nf->nif.mac[4], nf->nif.mac[5], ip);
            if (nf->nif.ip) arp_request(&nf->nif, nf->nif.ip); /* gratuitous: the switch learns our port */
        }
        break;
    default:
        link_down(nf, xenbus_state_name(state));
        if (nf->phase == NF_REFUSED && state == XenbusStateClosed) nf->phase = NF_WAITING;
        break;
    }
}

static char watch_path[128];

/* Restored into a new domain: the toolstack wrote device/vif/<n> afresh (backend path with our new id, the
   backend in Initialising), our rings' backend is gone with the old host's, and the watch with the old
   xenstored connection. Link down, then the handshake from the start, as after a netback restart. */
static void rehome(struct netfront *nf)
{
    char value[16];
    u64 id;
    xenbus_unwatch(&backend_watch);
    if (read_key(nf->dir, "backend", nf->backend, sizeof nf->backend) < 0) printf("netfront: %s: no backend after resume\n", nf->dir);
    if (read_key(nf->dir, "backend-id", value, sizeof value) == 0) {
        id = 0;
        for (const char *c = value; *c >= '0' && *c <= '9'; c++) id = id * 10 + (u64)(*c - '0');
        if (id < DOMID_SELF) nf->backend_id = (domid_t)id;
    }
    if (nf->phase == NF_CONNECTED || nf->phase == NF_CONNECTING || nf->phase == NF_RESUMING) link_down(nf, "left behind by a restore");
    else xenbus_switch_state(nf->dir, XenbusStateInitialising);
    if (nf->phase == NF_REFUSED) nf->phase = NF_WAITING;
    snprintf(watch_path, sizeof watch_path, "%s/state", nf->backend);
    backend_watch.path = watch_path;
    int rc = xenbus_watch(&backend_watch);
    if (rc < 0) printf("netfront: %s: cannot watch %s: %d\n", nf->dir, watch_path, rc);
}

void netfront_resume(void)
{
    struct netfront *nf = &the_netfront;
    if (!nf->nif.poll) return; /* never started */
    nf->resumed = 1;
    nf->backend_changed = 1;
    nf->nif.kicked = 1;
}

static int nf_poll(struct netif *nif)
{
    struct netfront *nf = (struct netfront *)nif;
    if (nf->resumed && !in_interrupt()) {
        nf->resumed = 0;
        rehome(nf);
    }
    if (nf->backend_changed) {
        nf->backend_changed = 0;
        backend_changed(nf);
    }
    return nf->phase == NF_CONNECTED || nf->phase == NF_RESUMING ? netfront_poll_rings(nf) : 0;
}

int netfront_connected(struct netfront *nf) { return nf && nf->phase == NF_CONNECTED; }

int netfront_wait_connected(struct netfront *nf, u64 deadline_ns)
{
    for (;;) {
        net_poll();
        if (netfront_connected(nf)) return 1;
        if (monotonic_ns() >= deadline_ns) return 0;
        net_wait(deadline_ns);
    }
}

/* The address: ip=A.B.C.D[/N] on the command line, else the backend's "ip" key (the toolstack copies
   the vif's ip= there); gw= names a gateway. */
static void configure_ip(struct netfront *nf)
{
    char value[40];
    const char *text = cmdline_get("ip");
    if (!text && read_key(nf->backend, "ip", value, sizeof value) == 0) text = value;
    u32 ip = 0, prefix = 24, gw = 0;
    if (text && !ip_parse(text, &ip, &prefix)) printf("netfront: ignoring ip '%s': not A.B.C.D[/N]\n", text);
    nf->nif.ip = ip;
    nf->nif.netmask = prefix_to_mask(prefix);
    const char *g = cmdline_get("gw");
    if (g && ip_parse(g, &gw, NULL)) nf->nif.gateway = gw;
}

struct netfront *netfront_start(unsigned index)
{
    struct netfront *nf = &the_netfront;
    char value[96];
    u64 backend_id;
    if (!xenbus_available()) {
        printf("netfront: no xenstore: no network\n");
        return NULL;
    }
    snprintf(nf->dir, sizeof nf->dir, "device/vif/%u", index);
    if (read_key(nf->dir, "backend", nf->backend, sizeof nf->backend) < 0 || read_key(nf->dir, "mac", value, sizeof value) < 0 ||
        !mac_parse(value, nf->nif.mac)) {
        printf("netfront: %s: no backend or mac in xenstore\n", nf->dir);
        return NULL;
    }
    char path[64];
    snprintf(path, sizeof path, "%s/backend-id", nf->dir);
    if (xenbus_read_u64(XBT_NIL, path, &backend_id) < 0 || backend_id >= DOMID_SELF) {
        printf("netfront: %s: no usable backend-id\n", nf->dir);
        return NULL;
    }
    nf->backend_id = (domid_t)backend_id;
    configure_ip(nf);
    nf->nif.poll = nf_poll;
    netfront_netif_init(nf);
    net_attach(&nf->nif);
    nf->phase = NF_WAITING;
    xenbus_switch_state(nf->dir, XenbusStateInitialising);
    snprintf(watch_path, sizeof watch_path, "%s/state", nf->backend);
    backend_watch.path = watch_path;
    backend_watch.handler = backend_state_fired;
    backend_watch.data = nf;
    nf->backend_changed = 1; /* look once even if the watch's first event is lost */
    int rc = xenbus_watch(&backend_watch);
    if (rc < 0) printf("netfront: %s: cannot watch %s: %d\n", nf->dir, watch_path, rc);
    return nf;
}
