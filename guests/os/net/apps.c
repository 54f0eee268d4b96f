/* The network apps (app= on the command line; docs/GUESTS.md): net-selftest needs no backend; the
   others bring up vif 0 through netfront first and give up, saying why, if it does not connect within
   net-timeout= seconds (default 30). */
#include "../netfront.h"

void net_selftest(void);
void netfront_selftest(void);
void app_ping(struct netif *nif);
void app_udp_echo(struct netif *nif);
void app_udp_sink(struct netif *nif);
void app_udp_blast(struct netif *nif);

static struct netif *net_up(const char *app)
{
    struct netfront *nf = netfront_start(0);
    if (!nf) return NULL;
    u64 timeout = cmdline_u64("net-timeout", 30);
    if (!netfront_wait_connected(nf, monotonic_ns() + timeout * 1000000000ULL)) {
        printf("%s: vif 0 did not connect in %llu s\n", app, timeout);
        netfront_print_stats(nf, app);
        return NULL;
    }
    if (!nf->nif.ip) {
        printf("%s: no IPv4 address (ip= on the command line, or the vif's ip= in the domain config)\n", app);
        return NULL;
    }
    return &nf->nif;
}

/* Every app ends with the driver's and the stack's counters, so a test sees what the backend did. */
static void net_down(const char *app, struct netif *nif)
{
    struct net_stats *s = &nif->stats;
    netfront_print_stats((struct netfront *)nif, app);
    printf("%s: stack: rx %llu frames, tx %llu frames (%llu refused by the driver); ARP %llu answered, %llu requests sent, "
           "%llu unresolved drops; IP %llu bad checksum, %llu bad header; UDP %llu delivered, %llu no port, %llu bad checksum\n",
           app, s->rx_frames, s->tx_frames, s->tx_errors, s->arp_requests_answered, s->arp_requests_sent, s->arp_unresolved_drops,
           s->ip_bad_checksum, s->ip_bad_header, s->udp_delivered, s->udp_no_port, s->udp_bad_checksum);
}

int net_app_run(const char *name)
{
    void (*app)(struct netif *) = NULL;
    if (strcmp(name, "net-selftest") == 0) {
        net_selftest();
        return 1;
    }
    if (strcmp(name, "netfront-selftest") == 0) {
        netfront_selftest();
        return 1;
    }
    if (strcmp(name, "ping") == 0) app = app_ping;
    else if (strcmp(name, "udp-echo") == 0) app = app_udp_echo;
    else if (strcmp(name, "udp-sink") == 0) app = app_udp_sink;
    else if (strcmp(name, "udp-blast") == 0) app = app_udp_blast;
    else return 0;
    struct netif *nif = net_up(name);
    if (nif) {
        app(nif);
        net_down(name, nif);
    }
    return 1;
}
