/* UDP apps. Datagrams from udp-blast carry a header (magic "BLST", sequence u32, kind u8; the last,
   kind 1, also the number sent) so the receiving side can count what arrived and what was lost:
     udp-echo port=P [count=N]     sends every datagram back to its sender; a line per second with counts;
                                   ends after N datagrams if count= is given
     udp-sink port=P [seconds=S]   counts blast datagrams (received, bytes, lost by sequence) and prints a
                                   summary when the end marker comes (or after S seconds)
     udp-blast host=H port=P seconds=S [size=B] [rate=PPS]
                                   sends B-byte datagrams (default 1024) to H:P for S seconds as fast as the
                                   ring takes them (or at PPS), then the end marker; counts echoes that come
                                   back to its source port, and reports throughput */
#include "net.h"

#define BLAST_MAGIC 0x424C5354u /* "BLST" */
#define BLAST_HDR 13
#define BLAST_SRC_PORT 40000
#define NS 1000000000ULL

static int parse_host_port(const char *app, u32 *host, u16 *port, int need_host)
{
    const char *h = cmdline_get("host");
    u64 p = cmdline_u64("port", 0);
    if ((need_host && (!h || !ip_parse(h, host, NULL))) || p == 0 || p > 65535) {
        printf("%s: %sport=N (1..65535) is required\n", app, need_host ? "host=A.B.C.D and " : "");
        return 0;
    }
    *port = (u16)p;
    return 1;
}

/* ---- udp-echo ---- */
static u64 echo_count, echo_bytes, echo_failed;
static void echo_back(u32 from, u16 from_port, u16 to_port, const u8 *data, size_t len, void *ctx)
{
    echo_count++;
    echo_bytes += len;
    if (udp_send(ctx, to_port, from, from_port, data, len)) echo_failed++;
}

void app_udp_echo(struct netif *nif)
{
    u32 host;
    u16 port;
    if (!parse_host_port("udp-echo", &host, &port, 0)) return;
    u64 limit = cmdline_u64("count", 0);
    if (udp_bind(port, echo_back, nif)) return;
    char ip[16];
    ip_format(nif->ip, ip);
    printf("udp-echo: listening on %s:%u\n", ip, port);
    u64 next = monotonic_ns() + NS, last = 0;
    while (!limit || echo_count < limit) {
        net_poll();
        u64 now = monotonic_ns();
        if (now >= next) {
            if (echo_count != last) printf("udp-echo: %llu datagrams echoed (%llu bytes, %llu not sent back)\n", echo_count, echo_bytes, echo_failed);
            last = echo_count;
            next += NS;
        }
        net_wait(next);
    }
    printf("udp-echo: done: %llu datagrams echoed (%llu bytes, %llu not sent back)\n", echo_count, echo_bytes, echo_failed);
    udp_unbind(port);
}

/* ---- udp-sink ---- */
static struct { u64 received, bytes, highest, first_ns, last_ns, claimed; int ended, started; u32 from; } sink;
static void sink_take(u32 from, u16 from_port, u16 to_port, const u8 *data, size_t len, void *ctx)
{
    if (len < BLAST_HDR || get32(data) != BLAST_MAGIC) return;
    u64 now = monotonic_ns();
    u32 seq = get32(data + 4);
    if (data[8] == 1) {
        sink.ended = 1;
        sink.claimed = get32(data + 9);
        return;
    }
    if (!sink.started) { sink.started = 1; sink.first_ns = now; sink.from = from; }
    sink.last_ns = now;
    sink.received++;
    sink.bytes += len;
    if (seq + 1ULL > sink.highest) sink.highest = seq + 1ULL;
}

void app_udp_sink(struct netif *nif)
{
    u32 host;
    u16 port;
    if (!parse_host_port("udp-sink", &host, &port, 0)) return;
    u64 seconds = cmdline_u64("seconds", 0);
    if (udp_bind(port, sink_take, NULL)) return;
    char ip[16];
    ip_format(nif->ip, ip);
    printf("udp-sink: listening on %s:%u\n", ip, port);
    u64 start = monotonic_ns(), next = start + NS, last = 0;
    while (!sink.ended && (!seconds || monotonic_ns() - start < seconds * NS)) {
        net_poll();
        if (monotonic_ns() >= next) {
            if (sink.received != last) printf("udp-sink: %llu datagrams (%llu in the last second)\n", sink.received, sink.received - last);
            last = sink.received;
            next += NS;
        }
        net_wait(seconds ? MIN(next, start + seconds * NS) : next);
    }
    u64 sent = sink.ended ? sink.claimed : sink.highest, span = sink.last_ns - sink.first_ns;
    u64 kbps = span ? sink.bytes * 8 * 1000000ULL / span : 0;
    ip_format(sink.from, ip);
    printf("udp-sink: %s: received %llu of %llu datagrams from %s (%llu lost), %llu bytes in %llu ms, %llu kbit/s\n",
           sink.ended ? "end marker" : "timeout", sink.received, sent, ip, sent > sink.received ? sent - sink.received : 0,
           sink.bytes, span / 1000000, kbps);
    udp_unbind(port);
}

/* ---- udp-blast ---- */
static u64 echoes;
static void count_echo(u32 from, u16 from_port, u16 to_port, const u8 *data, size_t len, void *ctx)
{
    if (len >= BLAST_HDR && get32(data) == BLAST_MAGIC) echoes++;
}

void app_udp_blast(struct netif *nif)
{
    u32 host;
    u16 port;
    if (!parse_host_port("udp-blast", &host, &port, 1)) return;
    u64 seconds = cmdline_u64("seconds", 1), rate = cmdline_u64("rate", 0);
    size_t size = (size_t)MIN(MAX(cmdline_u64("size", 1024), (u64)BLAST_HDR), (u64)UDP_PAYLOAD_MAX);
    udp_bind(BLAST_SRC_PORT, count_echo, NULL);
    static u8 payload[UDP_PAYLOAD_MAX];
    for (size_t i = BLAST_HDR; i < size; i++) payload[i] = (u8)(i * 31);
    put32(payload, BLAST_MAGIC);
    printf("udp-blast: %u-byte datagrams to %s:%u for %llu s%s\n", (unsigned)size, cmdline_get("host"), port, seconds, rate ? "" : ", as fast as the ring takes them");
    /* Resolve the neighbour first: datagrams sent while ARP is pending would replace each other. */
    u64 arp_deadline = monotonic_ns() + 3 * NS;
    if (!arp_lookup(host, NULL)) arp_request(nif, host);
    while (!arp_lookup(host, NULL) && monotonic_ns() < arp_deadline) { net_poll(); net_wait(arp_deadline); }
    if (!arp_lookup(host, NULL)) printf("udp-blast: %s does not answer ARP; sending anyway\n", cmdline_get("host"));
    u64 start = monotonic_ns(), end = start + seconds * NS, sent = 0, waits = 0;
    while (monotonic_ns() < end) {
        if (rate && sent > (monotonic_ns() - start) * rate / NS) { /* the first goes at once */
            net_poll();
            net_wait(start + (sent + 1) * NS / rate);
            continue;
        }
        put32(payload + 4, (u32)sent);
        payload[8] = 0;
        int rc = udp_send(nif, BLAST_SRC_PORT, host, port, payload, size);
        if (rc == 0) {
            sent++;
            if ((sent & 31) == 0) net_poll(); /* take echoes and tx completions now and then */
        } else {
            /* Ring full (or the link went down): wait for the backend to complete something. */
            waits++;
            net_poll();
            net_wait(MIN(end, monotonic_ns() + 10000000ULL));
        }
    }
    u64 elapsed = monotonic_ns() - start;
    /* The end marker, a few times in case one is dropped (Ethernet is lossy). */
    put32(payload + 4, (u32)sent);
    payload[8] = 1;
    put32(payload + 9, (u32)sent);
    for (int i = 0; i < 3; i++) {
        udp_send(nif, BLAST_SRC_PORT, host, port, payload, BLAST_HDR);
        u64 until = monotonic_ns() + 100000000ULL;
        while (monotonic_ns() < until) { net_poll(); net_wait(until); }
    }
    u64 kbps = elapsed ? sent * size * 8 * 1000000ULL / elapsed : 0;
    printf("udp-blast: sent %llu datagrams (%llu bytes) in %llu ms: %llu datagrams/s, %llu kbit/s; %llu waits for ring space; %llu echoes back\n",
           sent, sent * size, elapsed / 1000000, elapsed ? sent * NS / elapsed : 0, kbps, waits, echoes);
    udp_unbind(BLAST_SRC_PORT);
}
