/* virtio-mmio version 2 (virtio 1.x §4.2.2) and split virtqueues (§2.7) for pvos's HVM drivers. The device
   is qemu-dm's and untrusted: what it writes into the used rings is checked (virtq_next_used). Every
   register access is an I/O request qemu-dm answers, so drivers keep them off the per-request path where
   they can: the rings live in guest RAM and need none. */
#pragma once
#include "hvm.h"

/* Registers (§4.2.2.1). */
#define VIRTIO_MAGIC 0x000
#define VIRTIO_VERSION 0x004
#define VIRTIO_DEVICE_ID 0x008
#define VIRTIO_DEVICE_FEATURES 0x010
#define VIRTIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_DRIVER_FEATURES 0x020
#define VIRTIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_QUEUE_SEL 0x030
#define VIRTIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_QUEUE_NUM 0x038
#define VIRTIO_QUEUE_READY 0x044
#define VIRTIO_QUEUE_NOTIFY 0x050
#define VIRTIO_INTERRUPT_STATUS 0x060
#define VIRTIO_INTERRUPT_ACK 0x064
#define VIRTIO_STATUS 0x070
#define VIRTIO_QUEUE_DESC 0x080   /* low, then high at +4 */
#define VIRTIO_QUEUE_DRIVER 0x090
#define VIRTIO_QUEUE_DEVICE 0x0a0
#define VIRTIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128
#define VIRTIO_F_VERSION_1 (1ULL << 32)

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc { u64 addr; u32 len; u16 flags; u16 next; };
struct virtq_avail { u16 flags; u16 idx; u16 ring[]; };
struct virtq_used_elem { u32 id; u32 len; };
struct virtq_used { u16 flags; u16 idx; struct virtq_used_elem ring[]; };

struct virtio_dev {
    uintptr_t base;
    unsigned slot;     /* 0..7: 0x1000_1000 + 0x1000 * slot, PLIC source 1 + slot */
    u32 device_id;
    u64 features;      /* negotiated */
};

struct virtq {
    struct virtio_dev *dev;
    u16 index, size;
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    u16 avail_idx;     /* the next avail.idx we publish */
    u16 last_used;     /* used entries consumed */
    u16 in_flight;     /* chains published and not yet used */
    u16 unnotified;    /* chains published since the last notify */
    int broken;        /* the device's used ring lied: nothing more is taken from it */
};

/* Finds the nth device of this type (0: the first) in QEMU's order: the k-th device on qemu-dm's command
   line sits in slot 7 - k, so slots are searched from 7 down. 0 if found. */
int virtio_find(u32 device_id, unsigned nth, struct virtio_dev *dev);
/* Reset, ACKNOWLEDGE, DRIVER, features (VERSION_1 and what the driver wants of what the device offers),
   FEATURES_OK read back. 0 or -XEN_ENODEV with the reason printed. */
int virtio_start(struct virtio_dev *dev, u64 wanted, const char *who);
/* Queue index with at most max_size entries (a power of two), rings in fresh pages. interrupts = 0 sets
   VIRTQ_AVAIL_F_NO_INTERRUPT: the driver polls that queue. */
int virtq_setup(struct virtio_dev *dev, struct virtq *q, unsigned index, u16 max_size, int interrupts);
void virtio_driver_ok(struct virtio_dev *dev);
u32 virtio_config_read32(struct virtio_dev *dev, unsigned offset);
u8 virtio_config_read8(struct virtio_dev *dev, unsigned offset);
u32 virtio_status(struct virtio_dev *dev);
u32 virtio_interrupt_ack(struct virtio_dev *dev); /* reads InterruptStatus and acknowledges it */

void virtq_publish(struct virtq *q, u16 head);     /* a chain the driver filled: the device may take it */
void virtq_notify(struct virtq *q);                /* QueueNotify, if anything was published since the last */
/* The next used element: 1 and *id, *len; 0 if none; -1 if the device's used ring is not believable (an
   index past what is in flight, or an id outside the queue): then q->broken is set and the reason printed. */
int virtq_next_used(struct virtq *q, u32 *id, u32 *len, const char *who);
