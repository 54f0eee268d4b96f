/* app=ping host=A.B.C.D [count=N] [interval=MS] [size=BYTES]: ICMP echo requests, one per interval
   (default 4 requests, 1000 ms, 56 data bytes), each reply printed with its round-trip time, then a
   summary with the loss, as ping(8) prints them. Replies are matched by our identifier and a sequence
   number we sent and have not seen answered; duplicates and strays are counted, not believed. */
#include "net.h"

#define PING_WINDOW 64
static struct {
    u16 id;
    u32 host;
    u64 sent_ns[PING_WINDOW];
    u16 sent_seq[PING_WINDOW];
    u8 answered[PING_WINDOW];
    u64 received, duplicates, strays, rtt_min, rtt_max, rtt_sum;
    size_t size;
} ping;

static void print_ms(const char *label, u64 ns)
{
    printf("%s%llu.%03llu", label, ns / 1000000, ns / 1000 % 1000);
}

static void on_reply(u32 from, u16 id, u16 seq, const u8 *data, size_t len, void *ctx)
{
    unsigned slot = seq % PING_WINDOW;
    if (id != ping.id || from != ping.host || ping.sent_seq[slot] != seq || !ping.sent_ns[slot]) {
        ping.strays++;
        return;
    }
    if (ping.answered[slot]) {
        ping.duplicates++;
        return;
    }
    ping.answered[slot] = 1;
    u64 rtt = monotonic_ns() - ping.sent_ns[slot];
    ping.received++;
    ping.rtt_sum += rtt;
    if (ping.received == 1 || rtt < ping.rtt_min) ping.rtt_min = rtt;
    if (rtt > ping.rtt_max) ping.rtt_max = rtt;
    char ip[16];
    ip_format(from, ip);
    printf("%u bytes from %s: icmp_seq=%u", (unsigned)(len + ICMP_HLEN), ip, seq);
    print_ms(" time=", rtt);
    printf(" ms\n");
}

void app_ping(struct netif *nif)
{
    const char *host = cmdline_get("host");
    u64 count = cmdline_u64("count", 4), interval_ms = cmdline_u64("interval", 1000);
    ping.size = (size_t)MIN(cmdline_u64("size", 56), (u64)ICMP_PAYLOAD_MAX);
    if (!host || !ip_parse(host, &ping.host, NULL)) {
        printf("ping: host=A.B.C.D is required\n");
        return;
    }
    ping.id = (u16)(0x5000 ^ (nif->mac[4] << 8 | nif->mac[5])); /* unique on a bridge, in either flavour */
    icmp_set_echo_handler(on_reply, NULL);
    printf("PING %s: %u data bytes\n", host, (unsigned)ping.size);
    static u8 data[ICMP_PAYLOAD_MAX];
    for (size_t i = 0; i < ping.size; i++) data[i] = (u8)i;
    u64 start = monotonic_ns(), sent = 0;
    for (u64 n = 0; n < count; n++) {
        u16 seq = (u16)(n + 1);
        unsigned slot = seq % PING_WINDOW;
        ping.sent_seq[slot] = seq;
        ping.answered[slot] = 0;
        ping.sent_ns[slot] = monotonic_ns();
        int rc = icmp_send_echo(nif, ping.host, ping.id, seq, data, ping.size);
        sent++;
        if (rc) printf("ping: icmp_seq=%u not sent: %d\n", seq, rc);
        /* The last request gets a full interval (at least a second) to be answered too. */
        u64 wait = n + 1 < count ? interval_ms : MAX(interval_ms, 1000);
        u64 deadline = ping.sent_ns[slot] + wait * 1000000ULL;
        while (monotonic_ns() < deadline) {
            net_poll();
            if (n + 1 == count && ping.received == sent) break;
            net_wait(deadline);
        }
    }
    u64 elapsed = monotonic_ns() - start;
    printf("--- %s ping statistics ---\n", host);
    printf("%llu packets transmitted, %llu received, %llu%% packet loss, time %llums", sent, ping.received,
           sent ? (sent - ping.received) * 100 / sent : 0, elapsed / 1000000);
    if (ping.duplicates) printf(", +%llu duplicates", ping.duplicates);
    printf("\n");
    if (ping.received) {
        print_ms("rtt min/avg/max = ", ping.rtt_min);
        print_ms("/", ping.rtt_sum / ping.received);
        print_ms("/", ping.rtt_max);
        printf(" ms\n");
    }
    icmp_set_echo_handler(NULL, NULL);
}
