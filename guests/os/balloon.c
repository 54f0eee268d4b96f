/* The balloon driver: memory_op decrease_reservation gives free pages back to the host (highest frames
   first, so low memory stays for the OS), increase_reservation takes holes below maxmem back, until
   the domain has the target number of pages. The target comes from the command line (mem-target=,
   64M / 2048K / 1G, bare numbers MiB) until xenstore's memory/target exists. Each call carries up to
   BATCH extents; the kernel returns how many it did, and the rest go back to the allocator. */
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

void balloon_init(void)
{
    u64 target_kib = cmdline_size_kib("mem-target", 0);
    if (!target_kib) return;
    domid_t self = DOMID_SELF;
    u64 before = mm_populated_pages();
    long reached = balloon_set_target(target_kib / 4);
    long current = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    printf("pvos: balloon: target %llu KiB: %llu -> %ld pages (%ld KiB); current_reservation %ld pages, %llu free\n", target_kib,
           before, reached, reached * 4, current, mm_free_pages());
}
