/* ICMP (RFC 792): echo requests to our address are answered with the same identifier, sequence and
   data; echo replies go to the one registered handler (the ping app); a UDP datagram for a port nobody
   bound gets port unreachable, as a host would send. Every message's checksum is checked first. */
#include "net.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_PORT_UNREACH 3

static icmp_echo_handler_t echo_handler;
static void *echo_ctx;

void icmp_set_echo_handler(icmp_echo_handler_t handler, void *ctx)
{
    echo_handler = handler;
    echo_ctx = ctx;
}

static int send_icmp(struct netif *nif, u32 dst, u8 type, u8 code, u32 rest, const u8 *data, size_t len)
{
    if (len > ICMP_PAYLOAD_MAX) return -XEN_E2BIG;
    u8 *m = net_tx_buffer() + ETH_HLEN + IP_HLEN;
    m[0] = type;
    m[1] = code;
    put16(m + 2, 0);
    put32(m + 4, rest);
    memmove(m + ICMP_HLEN, data, len); /* data may already be in the tx buffer */
    put16(m + 2, inet_checksum(m, ICMP_HLEN + len, 0));
    return ipv4_output(nif, dst, IPPROTO_ICMP, ICMP_HLEN + len);
}

int icmp_send_echo(struct netif *nif, u32 dst, u16 id, u16 seq, const u8 *data, size_t len)
{
    return send_icmp(nif, dst, ICMP_ECHO_REQUEST, 0, (u32)id << 16 | seq, data, len);
}

int icmp_send_port_unreachable(struct netif *nif, const u8 *ip_packet, size_t ip_len)
{
    /* The original IP header and the first 8 bytes of its payload (RFC 792). */
    size_t quote = (size_t)(ip_packet[0] & 15) * 4 + 8;
    if (quote > ip_len) quote = ip_len;
    nif->stats.icmp_unreach_sent++;
    return send_icmp(nif, get32(ip_packet + 12), ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, ip_packet, quote);
}

void icmp_input(struct netif *nif, u32 src, u32 dst, const u8 *ip_header, const u8 *m, size_t len)
{
    if (len < ICMP_HLEN || inet_checksum(m, len, 0) != 0) {
        nif->stats.icmp_bad++;
        return;
    }
    if (m[0] == ICMP_ECHO_REQUEST && m[1] == 0) {
        /* Only pings to our own address: answering broadcast pings would make us an amplifier. */
        if (dst != nif->ip) return;
        nif->stats.icmp_echo_answered++;
        send_icmp(nif, src, ICMP_ECHO_REPLY, 0, get32(m + 4), m + ICMP_HLEN, len - ICMP_HLEN);
    } else if (m[0] == ICMP_ECHO_REPLY && m[1] == 0) {
        nif->stats.icmp_echo_replies++;
        if (echo_handler) echo_handler(src, get16(m + 4), get16(m + 6), m + ICMP_HLEN, len - ICMP_HLEN, echo_ctx);
    }
}
