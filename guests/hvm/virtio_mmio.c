/* The virtio-mmio transport and split virtqueues (virtio.h): discovery, the status handshake, queue
   set-up, and the driver's side of the rings with the checks a driver owes an untrusted device. */
#include "virtio.h"

static u32 reg_read(struct virtio_dev *dev, unsigned off) { return mmio_read32(dev->base + off); }
static void reg_write(struct virtio_dev *dev, unsigned off, u32 v) { mmio_write32(dev->base + off, v); }

int virtio_find(u32 device_id, unsigned nth, struct virtio_dev *dev)
{
    for (int slot = VIRTIO_MMIO_SLOTS - 1; slot >= 0; slot--) {
        uintptr_t base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE * (unsigned)slot;
        if (mmio_read32(base + VIRTIO_MAGIC) != VIRTIO_MMIO_MAGIC || mmio_read32(base + VIRTIO_VERSION) != 2) continue;
        if (mmio_read32(base + VIRTIO_DEVICE_ID) != device_id || nth-- > 0) continue;
        *dev = (struct virtio_dev){ .base = base, .slot = (unsigned)slot, .device_id = device_id };
        return 0;
    }
    return -XEN_ENODEV;
}

int virtio_start(struct virtio_dev *dev, u64 wanted, const char *who)
{
    reg_write(dev, VIRTIO_STATUS, 0);
    if (reg_read(dev, VIRTIO_STATUS) != 0) {
        printf("%s: slot %u does not reset\n", who, dev->slot);
        return -XEN_ENODEV;
    }
    reg_write(dev, VIRTIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    reg_write(dev, VIRTIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    reg_write(dev, VIRTIO_DEVICE_FEATURES_SEL, 0);
    u64 offered = reg_read(dev, VIRTIO_DEVICE_FEATURES);
    reg_write(dev, VIRTIO_DEVICE_FEATURES_SEL, 1);
    offered |= (u64)reg_read(dev, VIRTIO_DEVICE_FEATURES) << 32;
    if (!(offered & VIRTIO_F_VERSION_1)) {
        printf("%s: slot %u is a legacy device (no VERSION_1)\n", who, dev->slot);
        reg_write(dev, VIRTIO_STATUS, VIRTIO_STATUS_FAILED);
        return -XEN_ENODEV;
    }
    dev->features = offered & (wanted | VIRTIO_F_VERSION_1);
    reg_write(dev, VIRTIO_DRIVER_FEATURES_SEL, 0);
    reg_write(dev, VIRTIO_DRIVER_FEATURES, (u32)dev->features);
    reg_write(dev, VIRTIO_DRIVER_FEATURES_SEL, 1);
    reg_write(dev, VIRTIO_DRIVER_FEATURES, (u32)(dev->features >> 32));
    u32 status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK;
    reg_write(dev, VIRTIO_STATUS, status);
    if (!(reg_read(dev, VIRTIO_STATUS) & VIRTIO_STATUS_FEATURES_OK)) {
        printf("%s: slot %u refuses features 0x%llx\n", who, dev->slot, dev->features);
        reg_write(dev, VIRTIO_STATUS, VIRTIO_STATUS_FAILED);
        return -XEN_ENODEV;
    }
    return 0;
}

static void reg_write64(struct virtio_dev *dev, unsigned off, u64 v)
{
    reg_write(dev, off, (u32)v);
    reg_write(dev, off + 4, (u32)(v >> 32));
}

int virtq_setup(struct virtio_dev *dev, struct virtq *q, unsigned index, u16 max_size, int interrupts)
{
    reg_write(dev, VIRTIO_QUEUE_SEL, index);
    u32 max = reg_read(dev, VIRTIO_QUEUE_NUM_MAX);
    u16 size = 1;
    while ((u32)size * 2 <= max && size * 2 <= max_size) size *= 2;
    if (max == 0 || reg_read(dev, VIRTIO_QUEUE_READY)) return -XEN_ENODEV;
    /* Each ring in its own page: 16 * size, 6 + 2 * size and 6 + 8 * size bytes, size <= 256. */
    if (size > 256) return -XEN_EINVAL;
    *q = (struct virtq){ .dev = dev, .index = (u16)index, .size = size };
    q->desc = page_alloc();
    q->avail = page_alloc();
    q->used = page_alloc();
    if (!q->desc || !q->avail || !q->used) return -XEN_ENOMEM;
    q->avail->flags = interrupts ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
    reg_write(dev, VIRTIO_QUEUE_NUM, size);
    reg_write64(dev, VIRTIO_QUEUE_DESC, (uintptr_t)q->desc);
    reg_write64(dev, VIRTIO_QUEUE_DRIVER, (uintptr_t)q->avail);
    reg_write64(dev, VIRTIO_QUEUE_DEVICE, (uintptr_t)q->used);
    reg_write(dev, VIRTIO_QUEUE_READY, 1);
    return 0;
}

void virtio_driver_ok(struct virtio_dev *dev)
{
    reg_write(dev, VIRTIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

u32 virtio_config_read32(struct virtio_dev *dev, unsigned offset) { return reg_read(dev, VIRTIO_CONFIG + offset); }
u8 virtio_config_read8(struct virtio_dev *dev, unsigned offset) { return mmio_read8(dev->base + VIRTIO_CONFIG + offset); }
u32 virtio_status(struct virtio_dev *dev) { return reg_read(dev, VIRTIO_STATUS); }

u32 virtio_interrupt_ack(struct virtio_dev *dev)
{
    u32 s = reg_read(dev, VIRTIO_INTERRUPT_STATUS);
    if (s) reg_write(dev, VIRTIO_INTERRUPT_ACK, s);
    return s;
}

void virtq_publish(struct virtq *q, u16 head)
{
    q->avail->ring[q->avail_idx % q->size] = head;
    wmb(); /* the entry before the index that makes it visible (§2.7.13) */
    q->avail_idx++;
    WRITE_ONCE(q->avail->idx, q->avail_idx);
    q->in_flight++;
    q->unnotified++;
}

void virtq_notify(struct virtq *q)
{
    if (!q->unnotified) return;
    q->unnotified = 0;
    mb(); /* avail.idx before the notify */
    reg_write(q->dev, VIRTIO_QUEUE_NOTIFY, q->index);
}

int virtq_next_used(struct virtq *q, u32 *id, u32 *len, const char *who)
{
    if (q->broken) return -1;
    u16 idx = READ_ONCE(q->used->idx);
    u16 ready = (u16)(idx - q->last_used);
    if (!ready) return 0;
    if (ready > q->in_flight) {
        printf("%s: device error: used.idx %u is %u entries past the %u we consumed, with only %u in flight; queue %u stopped\n",
               who, idx, ready, q->last_used, q->in_flight, q->index);
        q->broken = 1;
        return -1;
    }
    rmb(); /* the index before the entries it covers */
    struct virtq_used_elem e = q->used->ring[q->last_used % q->size];
    if (e.id >= q->size) {
        printf("%s: device error: used id %u outside queue %u's %u entries; queue stopped\n", who, e.id, q->index, q->size);
        q->broken = 1;
        return -1;
    }
    q->last_used++;
    q->in_flight--;
    *id = e.id;
    *len = e.len;
    return 1;
}
