/* pvos's own small network stack: Ethernet, ARP, IPv4 (no fragments), ICMP echo, UDP. One interface
   (a struct netif a driver fills in: netfront, or the self-test's capture). Everything runs in thread
   context: a driver's interrupt only sets netif->kicked, and the app's loop calls net_poll, which lets
   the driver hand received frames to net_input. So the stack needs no locks, and one static transmit
   buffer serves every layer. Packets are read and written byte by byte in network order (get16/put16):
   after the 14-byte Ethernet header nothing is 4-byte aligned, and a misaligned access traps. */
#pragma once
#include "os.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MTU 1500
#define ETH_FRAME_MAX (ETH_HLEN + ETH_MTU)
#define ETH_FRAME_MIN 60 /* without FCS: shorter frames are padded on the wire */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_RARP 0x8035
#define IP_HLEN 20
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define UDP_PAYLOAD_MAX (ETH_MTU - IP_HLEN - UDP_HLEN)
#define ICMP_PAYLOAD_MAX (ETH_MTU - IP_HLEN - ICMP_HLEN)
#define IP_BROADCAST 0xFFFFFFFFu

static inline u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 get32(const u8 *p) { return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3]; }
static inline void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void put32(u8 *p, u32 v) { p[0] = (u8)(v >> 24); p[1] = (u8)(v >> 16); p[2] = (u8)(v >> 8); p[3] = (u8)v; }

/* Why frames were dropped or not answered: counters, never a crash (the peer is untrusted). */
struct net_stats {
    u64 rx_frames, rx_bytes, tx_frames, tx_bytes, tx_errors;
    u64 rx_runt, rx_not_for_us, rx_unknown_type;
    u64 arp_bad, arp_requests_answered, arp_replies_seen, arp_requests_sent, arp_unresolved_drops;
    u64 ip_bad_header, ip_bad_checksum, ip_fragments, ip_not_for_us, ip_unknown_proto;
    u64 icmp_bad, icmp_echo_answered, icmp_echo_replies, icmp_unreach_sent;
    u64 udp_bad, udp_bad_checksum, udp_delivered, udp_no_port, udp_sent;
};

struct netif;
/* Sends one whole Ethernet frame (the driver copies it; the buffer is the stack's again on return).
   0, or a negative Xen errno: -XEN_EAGAIN while the driver has no room (the caller may poll and retry). */
typedef int (*netif_transmit_t)(struct netif *nif, const u8 *frame, size_t len);
/* Hands every frame that arrived to net_input; returns how many (tx completions do not count). */
typedef int (*netif_poll_t)(struct netif *nif);

struct netif {
    u8 mac[ETH_ALEN];
    u32 ip, netmask, gateway; /* host order; ip 0 = not configured: only ARP learning, no answers */
    netif_transmit_t transmit;
    netif_poll_t poll;
    void *driver;
    volatile int kicked;      /* set by the driver's event handler: there may be work for net_poll */
    struct net_stats stats;
};

/* ---- the stack (eth.c, arp.c, ipv4.c, icmp.c, udp.c, checksum.c) ---- */
void net_attach(struct netif *nif); /* the one interface; resets ARP, bindings and counters */
struct netif *net_netif(void);
void net_input(struct netif *nif, const u8 *frame, size_t len);
int net_poll(void);                 /* driver poll + ARP timers; frames received */
/* Sleeps until deadline_ns, a kick from the driver, or the next ARP retry, whichever is first. */
void net_wait(u64 deadline_ns);

u8 *net_tx_buffer(void);            /* the frame under construction; payloads go at their layer's offset */
int eth_send(struct netif *nif, const u8 *dst_mac, u16 type, size_t payload_len); /* payload at buf + ETH_HLEN */

u16 inet_checksum(const u8 *data, size_t len, u32 initial); /* RFC 1071, over big-endian 16-bit words */
u32 inet_sum(const u8 *data, size_t len, u32 sum);         /* the unfolded running sum */
u32 inet_pseudo_sum(u32 src, u32 dst, u8 proto, u16 len);

void arp_input(struct netif *nif, const u8 *pkt, size_t len);
/* Sends the IPv4 frame in the tx buffer (payload_len bytes after the Ethernet header) to next_hop,
   queueing it (one per destination, the newest wins) while a request is outstanding. */
int arp_output(struct netif *nif, u32 next_hop, size_t payload_len);
int arp_lookup(u32 ip, u8 *mac_out);  /* 1 if resolved */
int arp_request(struct netif *nif, u32 ip);
void arp_timer(struct netif *nif, u64 now_ns);
u64 arp_next_deadline(void);
void arp_reset(void);

void ipv4_input(struct netif *nif, const u8 *pkt, size_t len);
/* Sends the transport payload at buf + ETH_HLEN + IP_HLEN; 0 or a negative Xen errno. */
int ipv4_output(struct netif *nif, u32 dst, u8 proto, size_t payload_len);

void icmp_input(struct netif *nif, u32 src, u32 dst, const u8 *ip_header, const u8 *pkt, size_t len);
typedef void (*icmp_echo_handler_t)(u32 from, u16 id, u16 seq, const u8 *data, size_t len, void *ctx);
void icmp_set_echo_handler(icmp_echo_handler_t handler, void *ctx);
int icmp_send_echo(struct netif *nif, u32 dst, u16 id, u16 seq, const u8 *data, size_t len);
int icmp_send_port_unreachable(struct netif *nif, const u8 *ip_packet, size_t ip_len);

void udp_input(struct netif *nif, u32 src, u32 dst, const u8 *ip_packet, const u8 *pkt, size_t len);
typedef void (*udp_handler_t)(u32 from, u16 from_port, u16 to_port, const u8 *data, size_t len, void *ctx);
int udp_bind(u16 port, udp_handler_t handler, void *ctx); /* 0, or -XEN_EBUSY / -XEN_ENOSPC */
void udp_unbind(u16 port);
void udp_reset(void);
int udp_send(struct netif *nif, u16 src_port, u32 dst, u16 dst_port, const u8 *data, size_t len);

/* ---- the driver under the apps (net/apps.c): netfront (netfront_up.c) or, in the HVM flavour, virtio-net ---- */
struct netif *net_driver_up(const char *app);          /* interface 0 attached and connected, or NULL (said why) */
void net_driver_stats(struct netif *nif, const char *app); /* the driver's counters, one line */

/* ---- addresses (addr.c) ---- */
int ip_parse(const char *text, u32 *ip, u32 *prefix_len); /* "A.B.C.D" or "A.B.C.D/N" (prefix 24 if absent) */
int mac_parse(const char *text, u8 *mac);                 /* "aa:bb:cc:dd:ee:ff" */
void ip_format(u32 ip, char *out);                         /* at least 16 bytes */
static inline u32 prefix_to_mask(u32 prefix) { return prefix ? ~0u << (32 - prefix) : 0; }
