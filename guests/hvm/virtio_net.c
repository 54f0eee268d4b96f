/* virtio-net (virtio 1.x §5.1) as the network apps' interface (net/net.h) in the HVM flavour. One page-
   half buffer per descriptor: receive buffers are posted once and re-posted as frames are taken; a
   transmit copies the frame behind a zeroed virtio_net_hdr and notifies (qemu-dm hands it to netback
   before it answers). The receive queue interrupts, through the PLIC, so net_wait sleeps until a frame
   comes; the transmit queue is polled. */
#include "virtio.h"
#include "net/net.h"

#define VIRTIO_NET_F_MAC (1ULL << 5)
#define VIRTIO_NET_HDR 12 /* with VERSION_1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers */
#define VN_BUF 2048
#define VN_QUEUE 64
#define WHO "virtio-net"

static struct {
    struct netif nif;
    struct virtio_dev dev;
    struct virtq rx, tx;
    u8 *rx_buf, *tx_buf;            /* VN_QUEUE buffers of VN_BUF bytes each, descriptor i's is buffer i */
    u16 tx_free[VN_QUEUE], nr_tx_free;
    u64 rx_frames, tx_frames, tx_full, interrupts, runts;
} vn;

static void reap_tx(void)
{
    u32 id, len;
    while (virtq_next_used(&vn.tx, &id, &len, WHO) > 0) vn.tx_free[vn.nr_tx_free++] = (u16)id;
}

static int vn_transmit(struct netif *nif, const u8 *frame, size_t len)
{
    if (vn.tx.broken || vn.rx.broken) return -XEN_EIO;
    if (!vn.nr_tx_free) reap_tx();
    if (!vn.nr_tx_free) {
        vn.tx_full++;
        return -XEN_EAGAIN;
    }
    if (len > VN_BUF - VIRTIO_NET_HDR) return -XEN_EINVAL;
    u16 id = vn.tx_free[--vn.nr_tx_free];
    u8 *b = vn.tx_buf + (size_t)id * VN_BUF;
    memset(b, 0, VIRTIO_NET_HDR);
    memcpy(b + VIRTIO_NET_HDR, frame, len);
    vn.tx.desc[id] = (struct virtq_desc){ (uintptr_t)b, (u32)(VIRTIO_NET_HDR + len), 0, 0 };
    virtq_publish(&vn.tx, id);
    virtq_notify(&vn.tx);
    vn.tx_frames++;
    return 0;
}

static void post_rx(u16 id)
{
    vn.rx.desc[id] = (struct virtq_desc){ (uintptr_t)(vn.rx_buf + (size_t)id * VN_BUF), VN_BUF, VIRTQ_DESC_F_WRITE, 0 };
    virtq_publish(&vn.rx, id);
}

static int vn_poll(struct netif *nif)
{
    int n = 0;
    u32 id, len;
    reap_tx();
    while (virtq_next_used(&vn.rx, &id, &len, WHO) > 0) {
        if (len < VIRTIO_NET_HDR + ETH_HLEN || len > VN_BUF) {
            vn.runts++;
        } else {
            net_input(nif, vn.rx_buf + (size_t)id * VN_BUF + VIRTIO_NET_HDR, len - VIRTIO_NET_HDR);
            vn.rx_frames++;
            n++;
        }
        post_rx((u16)id);
    }
    virtq_notify(&vn.rx); /* the buffers given back, if any */
    return n;
}

static void vn_interrupt(void *data)
{
    vn.interrupts++;
    virtio_interrupt_ack(&vn.dev);
    vn.nif.kicked = 1;
}

struct netif *net_driver_up(const char *app)
{
    const char *ip = cmdline_get("ip");
    u32 prefix;
    if (!ip || !ip_parse(ip, &vn.nif.ip, &prefix)) {
        printf("%s: no IPv4 address (ip=A.B.C.D/N on the command line)\n", app);
        return NULL;
    }
    if (virtio_find(VIRTIO_ID_NET, 0, &vn.dev)) {
        printf("%s: no virtio-net device\n", app);
        return NULL;
    }
    int rc = virtio_start(&vn.dev, VIRTIO_NET_F_MAC, WHO);
    if (!rc) rc = virtq_setup(&vn.dev, &vn.rx, 0, VN_QUEUE, 1);
    if (!rc) rc = virtq_setup(&vn.dev, &vn.tx, 1, VN_QUEUE, 0);
    if (!rc && (vn.rx.size != VN_QUEUE || vn.tx.size != VN_QUEUE)) rc = -XEN_ENODEV; /* buffers are per descriptor */
    if (!rc && (!(vn.rx_buf = pages_alloc_contig(VN_QUEUE * VN_BUF / PAGE_SIZE)) || !(vn.tx_buf = pages_alloc_contig(VN_QUEUE * VN_BUF / PAGE_SIZE))))
        rc = -XEN_ENOMEM;
    if (rc) {
        printf("%s: " WHO " in slot %u: set-up failed: %d\n", app, vn.dev.slot, rc);
        return NULL;
    }
    if (!(vn.dev.features & VIRTIO_NET_F_MAC)) {
        printf("%s: " WHO " in slot %u offers no MAC address\n", app, vn.dev.slot);
        return NULL;
    }
    for (unsigned i = 0; i < ETH_ALEN; i++) vn.nif.mac[i] = virtio_config_read8(&vn.dev, i);
    vn.nif.netmask = prefix_to_mask(prefix);
    vn.nif.transmit = vn_transmit;
    vn.nif.poll = vn_poll;
    vn.nif.driver = &vn;
    for (u16 i = 0; i < VN_QUEUE; i++) {
        post_rx(i);
        vn.tx_free[vn.nr_tx_free++] = i;
    }
    plic_route(VIRTIO_SLOT_IRQ(vn.dev.slot), vn_interrupt, NULL);
    virtio_driver_ok(&vn.dev);
    virtq_notify(&vn.rx);
    net_attach(&vn.nif);
    char text[16];
    ip_format(vn.nif.ip, text);
    printf("%s: " WHO " in slot %u: mac %02x:%02x:%02x:%02x:%02x:%02x, ip %s/%u, %u receive buffers\n", app, vn.dev.slot, vn.nif.mac[0],
           vn.nif.mac[1], vn.nif.mac[2], vn.nif.mac[3], vn.nif.mac[4], vn.nif.mac[5], text, prefix, VN_QUEUE);
    return &vn.nif;
}

void net_driver_stats(struct netif *nif, const char *app)
{
    printf("%s: " WHO ": tx %llu frames (%llu waits for a free buffer), rx %llu frames (%llu runts), %llu interrupts%s\n", app,
           vn.tx_frames, vn.tx_full, vn.rx_frames, vn.runts, vn.interrupts, vn.rx.broken || vn.tx.broken ? ", device error: queue stopped" : "");
}
