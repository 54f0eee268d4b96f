/* UDP (RFC 768): a small table of bound ports, each with a handler called in thread context (from
   net_poll) with the datagram still in the driver's receive buffer. A nonzero checksum is verified
   over the pseudo-header; zero means the sender computed none, which IPv4 allows. We always send one
   (0 computed becomes 0xFFFF, as the RFC says). */
#include "net.h"

#define UDP_BINDINGS 8
static struct { u16 port; udp_handler_t handler; void *ctx; } bindings[UDP_BINDINGS];

void udp_reset(void) { memset(bindings, 0, sizeof bindings); }

int udp_bind(u16 port, udp_handler_t handler, void *ctx)
{
    if (!port || !handler) return -XEN_EINVAL;
    int free_slot = -1;
    for (int i = 0; i < UDP_BINDINGS; i++) {
        if (bindings[i].handler && bindings[i].port == port) return -XEN_EBUSY;
        if (!bindings[i].handler && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0) return -XEN_ENOSPC;
    bindings[free_slot].port = port;
    bindings[free_slot].handler = handler;
    bindings[free_slot].ctx = ctx;
    return 0;
}

void udp_unbind(u16 port)
{
    for (int i = 0; i < UDP_BINDINGS; i++)
        if (bindings[i].handler && bindings[i].port == port) bindings[i].handler = NULL;
}

void udp_input(struct netif *nif, u32 src, u32 dst, const u8 *ip_packet, const u8 *u, size_t len)
{
    if (len < UDP_HLEN || get16(u + 4) < UDP_HLEN || get16(u + 4) > len) {
        nif->stats.udp_bad++;
        return;
    }
    size_t ulen = get16(u + 4); /* the IP payload may be longer (padding); the UDP length rules */
    if (get16(u + 6) != 0 && inet_checksum(u, ulen, inet_pseudo_sum(src, dst, IPPROTO_UDP, (u16)ulen)) != 0) {
        nif->stats.udp_bad_checksum++;
        return;
    }
    u16 sport = get16(u), dport = get16(u + 2);
    for (int i = 0; i < UDP_BINDINGS; i++) {
        if (bindings[i].handler && bindings[i].port == dport) {
            nif->stats.udp_delivered++;
            bindings[i].handler(src, sport, dport, u + UDP_HLEN, ulen - UDP_HLEN, bindings[i].ctx);
            return;
        }
    }
    nif->stats.udp_no_port++;
    if (dst == nif->ip) icmp_send_port_unreachable(nif, ip_packet, (size_t)(u - ip_packet) + len);
}

int udp_send(struct netif *nif, u16 src_port, u32 dst, u16 dst_port, const u8 *data, size_t len)
{
    if (len > UDP_PAYLOAD_MAX) return -XEN_E2BIG;
    u8 *u = net_tx_buffer() + ETH_HLEN + IP_HLEN;
    put16(u, src_port);
    put16(u + 2, dst_port);
    put16(u + 4, (u16)(UDP_HLEN + len));
    put16(u + 6, 0);
    if (data != u + UDP_HLEN) memmove(u + UDP_HLEN, data, len);
    u16 sum = inet_checksum(u, UDP_HLEN + len, inet_pseudo_sum(nif->ip, dst, IPPROTO_UDP, (u16)(UDP_HLEN + len)));
    put16(u + 6, sum ? sum : 0xFFFF);
    int rc = ipv4_output(nif, dst, IPPROTO_UDP, UDP_HLEN + len);
    if (rc == 0) nif->stats.udp_sent++;
    return rc;
}
