/* The network apps' driver in the PV flavour: vif 0 through netfront (net/net.h, net_driver_up). */
#include "netfront.h"

struct netif *net_driver_up(const char *app)
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

void net_driver_stats(struct netif *nif, const char *app) { netfront_print_stats((struct netfront *)nif, app); }
