/* The network apps (app= on the command line; docs/GUESTS.md): net-selftest needs no backend; the
   others bring up interface 0 through the driver first (net_driver_up: netfront's vif 0, or virtio-net in
   the HVM flavour) and give up, saying why, if it does not connect within net-timeout= seconds (default 30). */
#include "net.h"

void net_selftest(void);
void app_ping(struct netif *nif);
void app_udp_echo(struct netif *nif);
void app_udp_sink(struct netif *nif);
void app_udp_blast(struct netif *nif);

/* Every app ends with the driver's and the stack's counters, so a test sees what the backend did. */
static void net_down(const char *app, struct netif *nif)
{
    struct net_stats *s = &nif->stats;
    net_driver_stats(nif, app);
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
    if (strcmp(name, "ping") == 0) app = app_ping;
    else if (strcmp(name, "udp-echo") == 0) app = app_udp_echo;
    else if (strcmp(name, "udp-sink") == 0) app = app_udp_sink;
    else if (strcmp(name, "udp-blast") == 0) app = app_udp_blast;
    else return 0;
    struct netif *nif = net_driver_up(name);
    if (nif) {
        app(nif);
        net_down(name, nif);
    }
    return 1;
}
