/* The guest's own grant table, v1 (grant_table.h; kernel: GrantTableHypercall, PvLayout). The kernel
   provides its frames in the special region below RAM (PvLayout.FirstGrantPage on, 4 to start, 32 at
   most); query_size says how many, setup_table lists them. Refs 0 and 1 are the console and xenstore
   pages the kernel filled in; refs from 8 on are ours to hand out. Granting writes frame and domid,
   then (after a write barrier) flags; ending a grant atomically clears flags only while the grantee
   holds no reading/writing pin (lr/sc on the word that holds flags), so a page is never reused while a
   backend still copies from it. */
#include "os.h"

#define MAX_FRAMES 32
static struct grant_entry_v1 *table;
static unsigned nr_frames, max_frames;
static grant_ref_t free_refs[MAX_FRAMES * GREFS_PER_FRAME];
static unsigned nr_free;
domid_t my_domid = DOMID_SELF;

unsigned gnttab_nr_frames(void) { return nr_frames; }

grant_ref_t gnttab_grant_access(domid_t domid, xen_pfn_t frame, int readonly)
{
    xlen_t flags = irq_save();
    grant_ref_t ref = nr_free ? free_refs[--nr_free] : 0;
    irq_restore(flags);
    if (!ref) return 0;
    table[ref].frame = (u32)frame;
    table[ref].domid = domid;
    wmb(); /* frame and domid before the flags that make the entry valid */
    WRITE_ONCE(table[ref].flags, (u16)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    return ref;
}

/* Clears the entry's flags unless the kernel marks it in use; returns the flags it saw. */
static u32 clear_flags_if_idle(volatile u32 *word)
{
    u32 old, tmp;
    asm volatile("1: lr.w.aqrl %0, (%2)\n"
                 "   andi %1, %0, %3\n"
                 "   bnez %1, 2f\n"
                 "   srli %1, %0, 16\n"
                 "   slli %1, %1, 16\n"
                 "   sc.w.rl %1, %1, (%2)\n"
                 "   bnez %1, 1b\n"
                 "2:\n"
                 : "=&r"(old), "=&r"(tmp)
                 : "r"(word), "i"(GTF_reading | GTF_writing)
                 : "memory");
    return old;
}

int gnttab_end_access(grant_ref_t ref)
{
    if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_frames * GREFS_PER_FRAME) return 0;
    u32 seen = clear_flags_if_idle((volatile u32 *)&table[ref]);
    if (seen & (GTF_reading | GTF_writing)) return 0;
    xlen_t flags = irq_save();
    free_refs[nr_free++] = ref;
    irq_restore(flags);
    return 1;
}

static void self_test(void)
{
    /* Needs our own domid in the entry (the kernel checks the grantee); only the cmd line gives it now. */
    u8 *src = page_alloc(), *dst = page_alloc();
    if (!src || !dst) return;
    for (int i = 0; i < 4096; i++) src[i] = (u8)(i * 7 + 3);
    grant_ref_t ref = gnttab_grant_access(my_domid, (uintptr_t)src >> PAGE_SHIFT, 1);
    struct gnttab_copy op = {
        .source = { .ref_or_gmfn = ref, .domid = DOMID_SELF, .offset = 16 },
        .dest = { .ref_or_gmfn = (uintptr_t)dst >> PAGE_SHIFT, .domid = DOMID_SELF, .offset = 32 },
        .len = 1000,
        .flags = GNTCOPY_source_gref,
    };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, &op, 1);
    int same = rc == 0 && op.status == GNTST_okay && memcmp(src + 16, dst + 32, 1000) == 0;
    int ended = gnttab_end_access(ref);
    /* After end_access the same copy must be refused. */
    struct gnttab_copy again = op;
    again.status = 0;
    HYPERVISOR_grant_table_op(GNTTABOP_copy, &again, 1);
    printf("pvos: gnttab: self-test via ref %u: copy rc %ld status %d %s, end_access %s, copy after end status %d %s\n", ref,
           rc, op.status, same ? "ok" : "FAILED", ended ? "ok" : "FAILED", again.status,
           again.status != GNTST_okay ? "(refused: ok)" : "FAILED");
    page_free(src);
    page_free(dst);
}

void gnttab_init(void)
{
    my_domid = (domid_t)cmdline_u64("domid", DOMID_SELF);
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc || q.status != GNTST_okay) {
        printf("pvos: gnttab: query_size failed: rc %ld status %d\n", rc, q.status);
        return;
    }
    static u64 frames[MAX_FRAMES];
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = MIN(q.nr_frames, MAX_FRAMES), .frame_list = (uintptr_t)frames };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
    if (rc || s.status != GNTST_okay) {
        printf("pvos: gnttab: setup_table(%u) failed: rc %ld status %d\n", s.nr_frames, rc, s.status);
        return;
    }
    /* No paging: the frames must be contiguous to be one array; use the contiguous prefix. */
    nr_frames = 1;
    while (nr_frames < s.nr_frames && frames[nr_frames] == frames[0] + nr_frames) nr_frames++;
    max_frames = q.max_nr_frames;
    table = (struct grant_entry_v1 *)(uintptr_t)(frames[0] << PAGE_SHIFT);
    for (grant_ref_t r = nr_frames * GREFS_PER_FRAME - 1; r >= GNTTAB_NR_RESERVED_ENTRIES; r--) free_refs[nr_free++] = r;
    struct gnttab_get_version v = { .dom = DOMID_SELF };
    long vrc = HYPERVISOR_grant_table_op(GNTTABOP_get_version, &v, 1);
    printf("pvos: gnttab: v%u (rc %ld), %u of %u frames at 0x%llx, %u free refs; ref 0 -> frame 0x%x dom %u flags 0x%x\n",
           v.version, vrc, nr_frames, max_frames, frames[0] << PAGE_SHIFT, nr_free, table[0].frame, table[0].domid,
           table[0].flags);
}

void gnttab_self_test(void)
{
    if (table && my_domid != DOMID_SELF) self_test();
}
