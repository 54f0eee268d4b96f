/* Physical pages. RAM is guest frames from 0x8000_0000; the first start_info.nr_pages are populated at
   boot, maxmem (memory_op maximum_reservation) bounds what the balloon may populate. Two bitmaps:
   populated (backed by the kernel) and allocated (the image, a ramdisk, pages handed out); a free page
   is populated and not allocated. No paging: addresses are guest-physical. */
#include "os.h"

#define MM_MAX_PAGES (1UL << 18) /* 1 GiB of RAM tracked; more is left alone */
static u32 populated[MM_MAX_PAGES / 32], allocated[MM_MAX_PAGES / 32];
static unsigned long max_pages, nr_populated, nr_free, hint;
extern char _start[], __image_end[];

static inline int test(u32 *map, unsigned long i) { return (map[i / 32] >> (i % 32)) & 1; }
static inline void set(u32 *map, unsigned long i) { map[i / 32] |= 1U << (i % 32); }
static inline void clear(u32 *map, unsigned long i) { map[i / 32] &= ~(1U << (i % 32)); }
static inline int is_free(unsigned long i) { return test(populated, i) && !test(allocated, i); }

static void reserve_range(uintptr_t start, uintptr_t end)
{
    for (uintptr_t a = start & ~(PAGE_SIZE - 1); a < end; a += PAGE_SIZE) {
        unsigned long i = (a - RAM_BASE) >> PAGE_SHIFT;
        if (a < RAM_BASE || i >= max_pages) continue;
        if (is_free(i)) nr_free--;
        set(allocated, i);
    }
}

void mm_init(void)
{
    domid_t self = DOMID_SELF;
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    max_pages = max > 0 ? (unsigned long)max : (unsigned long)start_info->nr_pages;
    if (max_pages > MM_MAX_PAGES) max_pages = MM_MAX_PAGES;
    unsigned long initial = MIN((unsigned long)start_info->nr_pages, max_pages);
    for (unsigned long i = 0; i < initial; i++) set(populated, i);
    nr_populated = nr_free = initial;
    reserve_range((uintptr_t)_start, (uintptr_t)__image_end);
    if (start_info->mod_start) reserve_range((uintptr_t)start_info->mod_start, (uintptr_t)(start_info->mod_start + start_info->mod_len));
    printf("pvos: mm: %lu pages populated (current_reservation %ld), maxmem %lu pages (maximum_reservation %ld), "
           "image 0x%lx-0x%lx, %lu pages free\n",
           nr_populated, cur, max_pages, max, (uintptr_t)_start, (uintptr_t)__image_end, nr_free);
}

void *page_alloc(void)
{
    xlen_t flags = irq_save();
    for (unsigned long n = 0; n < max_pages; n++) {
        unsigned long i = (hint + n) % max_pages;
        if (is_free(i)) {
            set(allocated, i);
            nr_free--;
            hint = i + 1;
            irq_restore(flags);
            void *p = (void *)(RAM_BASE + (i << PAGE_SHIFT));
            memset(p, 0, PAGE_SIZE);
            return p;
        }
    }
    irq_restore(flags);
    return NULL;
}

void page_free(void *page)
{
    unsigned long i = ((uintptr_t)page - RAM_BASE) >> PAGE_SHIFT;
    if ((uintptr_t)page < RAM_BASE || i >= max_pages || !test(allocated, i)) os_crash("page_free(%p): not an allocated page", page);
    xlen_t flags = irq_save();
    clear(allocated, i);
    nr_free++;
    if (i < hint) hint = i;
    irq_restore(flags);
}

u64 mm_free_pages(void) { return nr_free; }
u64 mm_populated_pages(void) { return nr_populated; }
u64 mm_max_pages(void) { return max_pages; }

long mm_take_free_top(xen_pfn_t *pfns, long n)
{
    long got = 0;
    xlen_t flags = irq_save();
    for (unsigned long i = max_pages; i-- > 0 && got < n;) {
        if (!is_free(i)) continue;
        set(allocated, i);
        nr_free--;
        pfns[got++] = RAM_FIRST_PFN + i;
    }
    irq_restore(flags);
    return got;
}

void mm_mark_unpopulated(xen_pfn_t pfn)
{
    unsigned long i = (unsigned long)(pfn - RAM_FIRST_PFN);
    clear(populated, i);
    clear(allocated, i);
    nr_populated--;
}

void mm_return_unpopulated(xen_pfn_t pfn)
{
    unsigned long i = (unsigned long)(pfn - RAM_FIRST_PFN);
    clear(allocated, i);
    nr_free++;
}

long mm_find_unpopulated(xen_pfn_t *pfns, long n)
{
    long got = 0;
    for (unsigned long i = 0; i < max_pages && got < n; i++)
        if (!test(populated, i)) pfns[got++] = RAM_FIRST_PFN + i;
    return got;
}

void mm_mark_populated_free(xen_pfn_t pfn)
{
    unsigned long i = (unsigned long)(pfn - RAM_FIRST_PFN);
    set(populated, i);
    clear(allocated, i);
    nr_populated++;
    nr_free++;
    if (i < hint) hint = i;
}

void *pages_alloc_contig(unsigned long n)
{
    xlen_t flags = irq_save();
    unsigned long run = 0;
    for (unsigned long i = 0; i < max_pages && n; i++) {
        run = is_free(i) ? run + 1 : 0;
        if (run == n) {
            unsigned long first = i + 1 - n;
            for (unsigned long j = first; j <= i; j++) set(allocated, j);
            nr_free -= n;
            irq_restore(flags);
            return (void *)(RAM_BASE + (first << PAGE_SHIFT));
        }
    }
    irq_restore(flags);
    return NULL;
}
