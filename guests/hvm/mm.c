/* Memory in the HVM flavour: RAM from the end of the image up to the device tree (the loader puts the
   tree, and an initrd below it, at the top of RAM). Pages are handed out from the bottom, never given
   back: the apps allocate their buffers once. */
#include "hvm.h"

extern char __image_end[];
static uintptr_t next_free, ram_end;

void hvm_mm_init(uintptr_t end)
{
    next_free = ((uintptr_t)__image_end + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
    ram_end = end & ~(uintptr_t)(PAGE_SIZE - 1);
}

void *pages_alloc_contig(unsigned long n)
{
    if (n == 0 || next_free >= ram_end || n > (ram_end - next_free) / PAGE_SIZE) return NULL;
    void *p = (void *)next_free;
    next_free += n * PAGE_SIZE;
    return p;
}

void *page_alloc(void)
{
    void *p = pages_alloc_contig(1);
    if (p) memset(p, 0, PAGE_SIZE);
    return p;
}

u64 mm_free_pages(void) { return (ram_end - next_free) / PAGE_SIZE; }
