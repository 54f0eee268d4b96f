/* The balloon driver: memory_op decrease_reservation gives free pages back to the host (highest frames
   first, so low memory stays for the OS), increase_reservation takes holes below maxmem back, until
   the domain has the target number of pages. The target is xenstore's memory/target (KiB, as Xen's
   toolstack writes it on create and on `mem-set`), followed by a watch; without xenstored, the command
   line's mem-target= (64M / 2048K / 1G, bare numbers MiB) at boot. Each call carries up to BATCH
   extents; the kernel returns how many it did, and the rest go back to the allocator.
   A watch handler runs in interrupt context and must not block, so a change is read with an
   asynchronous request and the balloon moves in that reply's handler (one vCPU: the allocator's
   irq-off sections keep it consistent with the thread). */
#include "os.h"

#define BATCH 256
static xen_pfn_t batch[BATCH];

long balloon_set_target(u64 target_pages)
{
    domid_t self = DOMID_SELF;
    while (mm_populated_pages() > target_pages) {
        long want = (long)MIN((u64)BATCH, mm_populated_pages() - target_pages);
        long got = mm_take_free_top(batch, want);
        if (got == 0) {
            printf("pvos: balloon: no free page left to give back (%llu populated, target %llu)\n", mm_populated_pages(), target_pages);
            break;
        }
        struct xen_memory_reservation r = { .extent_start = (uintptr_t)batch, .nr_extents = (u64)got, .extent_order = 0, .domid = DOMID_SELF };
        long done = HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
        for (long i = 0; i < got; i++) {
            if (i < done) mm_mark_unpopulated(batch[i]);
            else mm_return_unpopulated(batch[i]);
        }
        if (done < got) {
            printf("pvos: balloon: decrease_reservation did %ld of %ld pages\n", done, got);
            break;
        }
    }
    while (mm_populated_pages() < target_pages) {
        long want = (long)MIN((u64)BATCH, target_pages - mm_populated_pages());
        long got = mm_find_unpopulated(batch, want);
        if (got == 0) {
            printf("pvos: balloon: target %llu pages is above maxmem %llu\n", target_pages, mm_max_pages());
            break;
        }
        struct xen_memory_reservation r = { .extent_start = (uintptr_t)batch, .nr_extents = (u64)got, .extent_order = 0, .domid = DOMID_SELF };
        long done = HYPERVISOR_memory_op(XENMEM_increase_reservation, &r);
        for (long i = 0; i < done && i < got; i++) mm_mark_populated_free(batch[i]);
        if (done < got) {
            printf("pvos: balloon: increase_reservation did %ld of %ld pages (host budget or maxmem)\n", done, got);
            break;
        }
    }
    (void)self;
    return (long)mm_populated_pages();
}

static void move_to(const char *why, u64 target_kib)
{
    domid_t self = DOMID_SELF;
    u64 before = mm_populated_pages();
    long reached = balloon_set_target(target_kib / 4);
    long current = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    printf("pvos: balloon: %s %llu KiB: %llu -> %ld pages (%ld KiB); current_reservation %ld pages, %llu free\n", why,
           target_kib, before, reached, reached * 4, current, mm_free_pages());
}

static u64 xenstore_target_kib;

static void target_read(int err, const char *body, u32 len, void *data)
{
    if (err) {
        printf("pvos: balloon: memory/target unreadable: %d\n", err);
        return;
    }
    u64 kib = 0;
    u32 i = 0;
    for (; i < len && body[i] >= '0' && body[i] <= '9' && kib < (1ULL << 40); i++) kib = kib * 10 + (u64)(body[i] - '0');
    if (i == 0 || i != len) {
        printf("pvos: balloon: memory/target '%s' is not a number of KiB; ignored\n", body);
        return;
    }
    if (kib == xenstore_target_kib) return;
    xenstore_target_kib = kib;
    move_to("memory/target", kib);
}

static void target_changed(struct xenbus_watch *w, const char *path)
{
    int rc = xenbus_read_async("memory/target", target_read, NULL);
    if (rc) printf("pvos: balloon: cannot read memory/target: %d\n", rc);
}

static struct xenbus_watch target_watch = { .path = "memory/target", .handler = target_changed };

void balloon_init(void)
{
    u64 target_kib = cmdline_size_kib("mem-target", 0);
    if (target_kib) move_to("target", target_kib);
    if (!xenbus_available()) return;
    /* The watch fires once when set: that first event reads the current target. */
    int rc = xenbus_watch(&target_watch);
    if (rc) printf("pvos: balloon: cannot watch memory/target: %d\n", rc);
}
