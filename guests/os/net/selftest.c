/* app=net-selftest: the stack driven without any backend. A capture interface records what the stack
   transmits; crafted frames (built here, field by field, with an independent checksum routine) are fed
   to net_input, and every answer is checked byte for byte: ARP reply to a request for our address and
   none for another, ICMP echo reply with a correct checksum, malformed and corrupted packets dropped
   and counted, UDP delivery to a bound port and port unreachable for an unbound one, UDP send with a
   pseudo-header checksum, ARP resolution queueing a datagram until the reply, and a run of random
   garbage that must neither crash the guest nor make it send anything malformed.
   Prints "net-selftest: <check> ok|FAILED ..." lines and a final tally. */
#include "net.h"

#define CAPTURE_MAX 4
static u8 captured[CAPTURE_MAX][ETH_FRAME_MAX];
static size_t captured_len[CAPTURE_MAX];
static int nr_captured, overflowed;
static int checks, failures;

static int capture(struct netif *nif, const u8 *frame, size_t len)
{
    if (nr_captured == CAPTURE_MAX) { overflowed++; return 0; }
    memcpy(captured[nr_captured], frame, len);
    captured_len[nr_captured++] = len;
    return 0;
}

static struct netif test_nif = { .mac = { 0x02, 0, 0, 0, 0, 0x01 }, .transmit = capture };
static const u8 peer_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const u8 other_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x55 };
static const u8 bcast[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
#define OUR_IP 0x0A000002u   /* 10.0.0.2 */
#define PEER_IP 0x0A000001u  /* 10.0.0.1 */
#define OTHER_IP 0x0A000005u /* 10.0.0.5 */

static void check(const char *name, int ok, const char *detail)
{
    checks++;
    if (!ok) failures++;
    printf("net-selftest: %s %s%s%s\n", name, ok ? "ok" : "FAILED", ok || !detail ? "" : ": ", ok || !detail ? "" : detail);
}

/* The reference checksum: a plain 64-bit sum, folded at the end; deliberately not the stack's code. */
static u16 ref_checksum(const u8 *a, size_t alen, const u8 *b, size_t blen)
{
    u64 sum = 0;
    for (size_t i = 0; i < alen; i++) sum += (i & 1) ? a[i] : (u64)a[i] << 8;
    for (size_t i = 0; i < blen; i++) sum += (i & 1) ? b[i] : (u64)b[i] << 8;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (u16)~sum;
}

static u16 ref_l4_checksum(u32 src, u32 dst, u8 proto, const u8 *seg, size_t len)
{
    u8 pseudo[12];
    put32(pseudo, src);
    put32(pseudo + 4, dst);
    pseudo[8] = 0;
    pseudo[9] = proto;
    put16(pseudo + 10, (u16)len);
    return ref_checksum(pseudo, 12, seg, len);
}

static u8 frame[ETH_FRAME_MAX];

static size_t build_eth(const u8 *dst, const u8 *src, u16 type)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    put16(frame + 12, type);
    return ETH_HLEN;
}

static size_t build_arp(const u8 *eth_dst, u16 op, const u8 *sha, u32 spa, const u8 *tha, u32 tpa)
{
    build_eth(eth_dst, sha, ETHERTYPE_ARP);
    u8 *p = frame + ETH_HLEN;
    put16(p, 1);
    put16(p + 2, ETHERTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    put16(p + 6, op);
    memcpy(p + 8, sha, 6);
    put32(p + 14, spa);
    memcpy(p + 18, tha, 6);
    put32(p + 24, tpa);
    memset(p + 28, 0, 18); /* padding to the 60-byte minimum, as a real NIC delivers it */
    return ETH_FRAME_MIN;
}

/* IPv4 header at frame + 14 for a payload of plen already at frame + 34; returns the frame length. */
static size_t build_ip(u32 src, u32 dst, u8 proto, size_t plen)
{
    u8 *h = frame + ETH_HLEN;
    h[0] = 0x45;
    h[1] = 0;
    put16(h + 2, (u16)(IP_HLEN + plen));
    put16(h + 4, 0x4242);
    put16(h + 6, 0);
    h[8] = 64;
    h[9] = proto;
    put16(h + 10, 0);
    put32(h + 12, src);
    put32(h + 16, dst);
    put16(h + 10, ref_checksum(h, IP_HLEN, NULL, 0));
    return ETH_HLEN + IP_HLEN + plen;
}

static size_t build_echo_request(u16 id, u16 seq, size_t data_len)
{
    build_eth(test_nif.mac, peer_mac, ETHERTYPE_IPV4);
    u8 *m = frame + ETH_HLEN + IP_HLEN;
    m[0] = 8;
    m[1] = 0;
    put16(m + 2, 0);
    put16(m + 4, id);
    put16(m + 6, seq);
    for (size_t i = 0; i < data_len; i++) m[8 + i] = (u8)(i * 13 + seq);
    put16(m + 2, ref_checksum(m, 8 + data_len, NULL, 0));
    return build_ip(PEER_IP, OUR_IP, IPPROTO_ICMP, 8 + data_len);
}

static size_t build_udp(u32 src, u16 sport, u16 dport, const char *text, int with_checksum)
{
    build_eth(test_nif.mac, peer_mac, ETHERTYPE_IPV4);
    u8 *u = frame + ETH_HLEN + IP_HLEN;
    size_t len = strlen(text);
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, (u16)(UDP_HLEN + len));
    put16(u + 6, 0);
    memcpy(u + UDP_HLEN, text, len);
    if (with_checksum) put16(u + 6, ref_l4_checksum(src, OUR_IP, IPPROTO_UDP, u, UDP_HLEN + len));
    return build_ip(src, OUR_IP, IPPROTO_UDP, UDP_HLEN + len);
}

static void feed(size_t len)
{
    nr_captured = 0;
    overflowed = 0;
    net_input(&test_nif, frame, len);
}

/* Checks a captured IPv4 frame's Ethernet and IP header; returns its payload (NULL and a detail if bad). */
static const u8 *check_ip_frame(int i, const u8 *dst_mac, u32 dst_ip, u8 proto, size_t *plen, char *why)
{
    const u8 *f = captured[i], *h = f + ETH_HLEN;
    size_t total = get16(h + 2);
    if (memcmp(f, dst_mac, 6) || memcmp(f + 6, test_nif.mac, 6) || get16(f + 12) != ETHERTYPE_IPV4) { snprintf(why, 96, "Ethernet header"); return NULL; }
    if (h[0] != 0x45 || h[9] != proto || get32(h + 12) != OUR_IP || get32(h + 16) != dst_ip || h[8] == 0) { snprintf(why, 96, "IP header fields"); return NULL; }
    if (ETH_HLEN + total > captured_len[i] || total < IP_HLEN) { snprintf(why, 96, "IP total length %u in a %u-byte frame", (unsigned)total, (unsigned)captured_len[i]); return NULL; }
    if (ref_checksum(h, IP_HLEN, NULL, 0) != 0) { snprintf(why, 96, "IP header checksum 0x%04x wrong", get16(h + 10)); return NULL; }
    *plen = total - IP_HLEN;
    return h + IP_HLEN;
}

static struct { int calls; u32 from; u16 from_port, to_port; char data[64]; size_t len; } udp_seen;
static void udp_record(u32 from, u16 from_port, u16 to_port, const u8 *data, size_t len, void *ctx)
{
    udp_seen.calls++;
    udp_seen.from = from;
    udp_seen.from_port = from_port;
    udp_seen.to_port = to_port;
    udp_seen.len = len;
    memcpy(udp_seen.data, data, MIN(len, sizeof udp_seen.data - 1));
    udp_seen.data[MIN(len, sizeof udp_seen.data - 1)] = 0;
}

static struct { int calls; u16 id, seq; size_t len; } echo_seen;
static void echo_record(u32 from, u16 id, u16 seq, const u8 *data, size_t len, void *ctx)
{
    echo_seen.calls++;
    echo_seen.id = id;
    echo_seen.seq = seq;
    echo_seen.len = len;
}

void net_selftest_arp(char *why);
void net_selftest_garbage(char *why);

void net_selftest(void)
{
    char why[96];
    test_nif.ip = OUR_IP;
    test_nif.netmask = prefix_to_mask(24);
    net_attach(&test_nif);

    /* A known vector: the header from RFC 1071's neighbourhood, checksum 0xb861 (commonly cited). */
    static const u8 known[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
    u16 sum = inet_checksum(known, 20, 0);
    snprintf(why, sizeof why, "0x%04x, expected 0xb861", sum);
    check("checksum-known-vector", sum == 0xb861, why);
    u8 odd[3] = { 0x01, 0x02, 0x03 };
    check("checksum-odd-length", inet_checksum(odd, 3, 0) == ref_checksum(odd, 3, NULL, 0), NULL);

    /* ARP: a request for our address is answered to the asker, field by field. */
    feed(build_arp(bcast, 1, peer_mac, PEER_IP, (const u8[6]){ 0 }, OUR_IP));
    const u8 *r = captured[0] + ETH_HLEN;
    int ok = nr_captured == 1 && captured_len[0] >= ETH_HLEN + 28 && !memcmp(captured[0], peer_mac, 6) &&
             !memcmp(captured[0] + 6, test_nif.mac, 6) && get16(captured[0] + 12) == ETHERTYPE_ARP && get16(r) == 1 &&
             get16(r + 2) == ETHERTYPE_IPV4 && r[4] == 6 && r[5] == 4 && get16(r + 6) == 2 && !memcmp(r + 8, test_nif.mac, 6) &&
             get32(r + 14) == OUR_IP && !memcmp(r + 18, peer_mac, 6) && get32(r + 24) == PEER_IP;
    snprintf(why, sizeof why, "%d frames sent", nr_captured);
    check("arp-reply-to-request-for-our-ip", ok, why);
    u8 learned[6];
    check("arp-learns-the-asker", arp_lookup(PEER_IP, learned) && !memcmp(learned, peer_mac, 6), NULL);

    feed(build_arp(bcast, 1, other_mac, OTHER_IP, (const u8[6]){ 0 }, 0x0A000007));
    check("arp-no-reply-for-another-ip", nr_captured == 0 && !arp_lookup(OTHER_IP, NULL), NULL);

    /* ICMP echo: the reply mirrors id, sequence and data, with both checksums right. */
    size_t len = build_echo_request(0x1234, 7, 56);
    feed(len);
    size_t plen = 0;
    const u8 *m = nr_captured == 1 ? check_ip_frame(0, peer_mac, PEER_IP, IPPROTO_ICMP, &plen, why) : NULL;
    if (nr_captured != 1) snprintf(why, sizeof why, "%d frames sent", nr_captured);
    ok = m && plen == 64 && m[0] == 0 && m[1] == 0 && get16(m + 4) == 0x1234 && get16(m + 6) == 7 &&
         !memcmp(m + 8, frame + ETH_HLEN + IP_HLEN + 8, 56);
    if (m && !ok) snprintf(why, sizeof why, "ICMP fields (type %u, %u bytes)", m[0], (unsigned)plen);
    if (ok && ref_checksum(m, plen, NULL, 0) != 0) { ok = 0; snprintf(why, sizeof why, "ICMP checksum 0x%04x wrong", get16(m + 2)); }
    check("icmp-echo-reply", ok, why);

    /* The same request corrupted: one bit in the IP header, then one in the ICMP data. */
    u64 bad_before = test_nif.stats.ip_bad_checksum;
    len = build_echo_request(0x1234, 8, 56);
    frame[ETH_HLEN + 8] ^= 1; /* TTL, without fixing the checksum */
    feed(len);
    check("ip-bad-checksum-dropped", nr_captured == 0 && test_nif.stats.ip_bad_checksum == bad_before + 1, NULL);
    u64 icmp_bad_before = test_nif.stats.icmp_bad;
    len = build_echo_request(0x1234, 9, 56);
    frame[len - 1] ^= 0x80;
    feed(len);
    check("icmp-bad-checksum-dropped", nr_captured == 0 && test_nif.stats.icmp_bad == icmp_bad_before + 1, NULL);
    len = build_echo_request(0x1234, 10, 56);
    put16(frame + ETH_HLEN + 2, 200); /* total length beyond the frame */
    put16(frame + ETH_HLEN + 10, 0);
    put16(frame + ETH_HLEN + 10, ref_checksum(frame + ETH_HLEN, IP_HLEN, NULL, 0));
    feed(len);
    check("ip-length-beyond-frame-dropped", nr_captured == 0, NULL);
    len = build_echo_request(0x1234, 11, 56);
    put16(frame + ETH_HLEN + 6, 0x2000); /* a first fragment: no reassembly here */
    put16(frame + ETH_HLEN + 10, 0);
    put16(frame + ETH_HLEN + 10, ref_checksum(frame + ETH_HLEN, IP_HLEN, NULL, 0));
    feed(len);
    check("ip-fragment-dropped", nr_captured == 0 && test_nif.stats.ip_fragments == 1, NULL);
    len = build_echo_request(0x1234, 12, 56);
    memcpy(frame, other_mac, 6);
    feed(len);
    check("frame-for-another-mac-ignored", nr_captured == 0, NULL);

    /* UDP: delivered to the bound port with or without a checksum, dropped with a wrong one. */
    udp_bind(7000, udp_record, NULL);
    feed(build_udp(PEER_IP, 5555, 7000, "hello, pvos", 1));
    ok = udp_seen.calls == 1 && udp_seen.from == PEER_IP && udp_seen.from_port == 5555 && udp_seen.to_port == 7000 &&
         udp_seen.len == 11 && strcmp(udp_seen.data, "hello, pvos") == 0 && nr_captured == 0;
    check("udp-delivery-to-bound-port", ok, udp_seen.data);
    feed(build_udp(PEER_IP, 5555, 7000, "no checksum", 0));
    check("udp-zero-checksum-accepted", udp_seen.calls == 2 && strcmp(udp_seen.data, "no checksum") == 0, NULL);
    len = build_udp(PEER_IP, 5555, 7000, "corrupted", 1);
    frame[len - 2] ^= 0x10;
    feed(len);
    check("udp-bad-checksum-dropped", udp_seen.calls == 2 && test_nif.stats.udp_bad_checksum == 1, NULL);
    check("udp-bind-twice-refused", udp_bind(7000, udp_record, NULL) == -XEN_EBUSY, NULL);

    /* Unbound port: ICMP port unreachable quoting our peer's IP header and UDP header. */
    len = build_udp(PEER_IP, 5555, 7001, "anyone?", 1);
    feed(len);
    m = nr_captured == 1 ? check_ip_frame(0, peer_mac, PEER_IP, IPPROTO_ICMP, &plen, why) : NULL;
    ok = m && m[0] == 3 && m[1] == 3 && plen == 8 + 28 && !memcmp(m + 8, frame + ETH_HLEN, 28) && ref_checksum(m, plen, NULL, 0) == 0;
    check("udp-unbound-port-unreachable", ok, nr_captured == 1 ? why : "no frame");

    /* Sending UDP to the (learned) peer: headers, lengths and a pseudo-header checksum that verifies. */
    nr_captured = 0;
    int rc = udp_send(&test_nif, 7000, PEER_IP, 9000, (const u8 *)"abcde", 5);
    const u8 *u = nr_captured == 1 ? check_ip_frame(0, peer_mac, PEER_IP, IPPROTO_UDP, &plen, why) : NULL;
    ok = rc == 0 && u && plen == 13 && get16(u) == 7000 && get16(u + 2) == 9000 && get16(u + 4) == 13 && get16(u + 6) != 0 &&
         !memcmp(u + 8, "abcde", 5) && ref_l4_checksum(OUR_IP, PEER_IP, IPPROTO_UDP, u, 13) == 0;
    check("udp-send", ok, u ? "UDP fields or checksum" : why);
    ok = nr_captured == 1 && captured_len[0] == ETH_FRAME_MIN;
    for (size_t i = ETH_HLEN + IP_HLEN + 13; ok && i < ETH_FRAME_MIN; i++) ok = captured[0][i] == 0;
    check("short-frame-padded-with-zeros", ok, NULL);

    /* Sending ICMP echo requests (the ping app's path) and receiving the reply through the handler. */
    icmp_set_echo_handler(echo_record, NULL);
    nr_captured = 0;
    icmp_send_echo(&test_nif, PEER_IP, 0xBEEF, 3, (const u8 *)"0123456789", 10);
    m = nr_captured == 1 ? check_ip_frame(0, peer_mac, PEER_IP, IPPROTO_ICMP, &plen, why) : NULL;
    ok = m && m[0] == 8 && get16(m + 4) == 0xBEEF && get16(m + 6) == 3 && plen == 18 && ref_checksum(m, plen, NULL, 0) == 0;
    check("icmp-echo-request-sent", ok, why);
    if (m) {
        /* Turn our request into the peer's reply and feed it back. */
        memcpy(frame + ETH_HLEN + IP_HLEN, m, plen);
        build_eth(test_nif.mac, peer_mac, ETHERTYPE_IPV4);
        u8 *e = frame + ETH_HLEN + IP_HLEN;
        e[0] = 0;
        put16(e + 2, 0);
        put16(e + 2, ref_checksum(e, plen, NULL, 0));
        feed(build_ip(PEER_IP, OUR_IP, IPPROTO_ICMP, plen));
    }
    check("icmp-echo-reply-delivered", echo_seen.calls == 1 && echo_seen.id == 0xBEEF && echo_seen.seq == 3 && echo_seen.len == 10, NULL);

    net_selftest_arp(why);
    net_selftest_garbage(why);

    printf("net-selftest: %d checks, %d failed\n", checks, failures);
}

/* ARP resolution: a datagram to an unknown neighbour waits for the reply, then leaves to its MAC. */
void net_selftest_arp(char *why)
{
    nr_captured = 0;
    int rc = udp_send(&test_nif, 7000, OTHER_IP, 9000, (const u8 *)"queued", 6);
    const u8 *a = captured[0] + ETH_HLEN;
    int ok = rc == 0 && nr_captured == 1 && !memcmp(captured[0], bcast, 6) && get16(captured[0] + 12) == ETHERTYPE_ARP &&
             get16(a + 6) == 1 && get32(a + 14) == OUR_IP && get32(a + 24) == OTHER_IP && !memcmp(a + 8, test_nif.mac, 6);
    check("arp-request-for-unknown-neighbour", ok, NULL);
    feed(build_arp(test_nif.mac, 2, other_mac, OTHER_IP, test_nif.mac, OUR_IP));
    size_t plen = 0;
    const u8 *u = nr_captured == 1 ? check_ip_frame(0, other_mac, OTHER_IP, IPPROTO_UDP, &plen, why) : NULL;
    ok = u && plen == 14 && !memcmp(u + 8, "queued", 6) && ref_l4_checksum(OUR_IP, OTHER_IP, IPPROTO_UDP, u, 14) == 0;
    check("arp-reply-releases-queued-datagram", ok, u ? "datagram" : why);

    /* Unanswered: two more requests, a second apart, then the queued datagram is dropped and counted. */
    nr_captured = 0;
    udp_send(&test_nif, 7000, 0x0A000009, 9000, (const u8 *)"lost", 4);
    u64 drops = test_nif.stats.arp_unresolved_drops;
    int requests = nr_captured;
    for (int i = 0; i < 4; i++) {
        nr_captured = 0;
        arp_timer(&test_nif, monotonic_ns() + (u64)(i + 1) * 1000000001ULL);
        requests += nr_captured;
    }
    snprintf(why, 96, "%d requests, %llu drops", requests, test_nif.stats.arp_unresolved_drops - drops);
    check("arp-gives-up-after-three-requests", requests == 3 && test_nif.stats.arp_unresolved_drops == drops + 1, why);
}

/* Random frames, half of them given our MAC and a valid IPv4 header so they get past the first checks:
   the guest must survive, and anything it sends in answer must be a well-formed frame from us. */
void net_selftest_garbage(char *why)
{
    u64 x = 0x2545F4914F6CDD1DULL;
    int sent = 0, malformed = 0;
    for (int n = 0; n < 3000; n++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t len = (size_t)(x % ETH_FRAME_MAX);
        for (size_t i = 0; i < len; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; frame[i] = (u8)x; }
        if ((n & 1) && len >= ETH_HLEN + IP_HLEN) {
            memcpy(frame, test_nif.mac, 6);
            put16(frame + 12, (n & 2) ? ETHERTYPE_IPV4 : ETHERTYPE_ARP);
            if (n & 2) {
                frame[ETH_HLEN] = 0x45;
                frame[ETH_HLEN + 9] = (n & 4) ? IPPROTO_UDP : IPPROTO_ICMP;
                put16(frame + ETH_HLEN + 2, (u16)(len - ETH_HLEN - (x & 7)));
                put16(frame + ETH_HLEN + 6, 0);
                put32(frame + ETH_HLEN + 16, OUR_IP);
                put16(frame + ETH_HLEN + 10, 0);
                put16(frame + ETH_HLEN + 10, ref_checksum(frame + ETH_HLEN, IP_HLEN, NULL, 0));
            }
        }
        feed(len);
        for (int i = 0; i < nr_captured; i++) {
            sent++;
            if (captured_len[i] < ETH_FRAME_MIN || memcmp(captured[i] + 6, test_nif.mac, 6)) malformed++;
        }
    }
    snprintf(why, 96, "%d answers, %d malformed", sent, malformed);
    check("random-frames-survived", malformed == 0, why);
    printf("net-selftest: garbage: %d answers sent; drops: %llu runt, %llu not for us, %llu bad IP header, %llu bad IP checksum, %llu ARP, %llu ICMP, %llu UDP\n",
           sent, test_nif.stats.rx_runt, test_nif.stats.rx_not_for_us, test_nif.stats.ip_bad_header, test_nif.stats.ip_bad_checksum,
           test_nif.stats.arp_bad, test_nif.stats.icmp_bad, test_nif.stats.udp_bad + test_nif.stats.udp_bad_checksum);
}
