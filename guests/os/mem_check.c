/* mem-check mb=M rate=R seconds=S [verify=0]: memory whose every word is known, rewritten at R pages/s (default 256)
   round-robin over M MiB (default 4, at most 64), checked against what it must hold once a second: the
   load a save/restore or a migration must carry over exactly. Word i of page p in generation g holds
   expect(p, i, g); gen[] counts each page's rewrites. verify=0 checks only around a suspend (a benchmark's
   guest: the once-a-second check of a large region keeps the vCPU busy and delays the suspend). Lines:
     mem-check: N s: W pages rewritten, checksum 0x..., M mismatches
   and around a suspend (suspend.c hooks):
     mem-check: before suspend: checksum 0x...
     mem-check: after resume (new domain|cancelled): checksum 0x..., M mismatches */
#include "os.h"

#define MAX_MB 64
#define WORDS (PAGE_SIZE / 4)

static u32 *region;
static unsigned long pages;
static u32 gen[MAX_MB * 256];
static u64 before_sum;

static inline u32 expect(unsigned long p, unsigned i, u32 g)
{
    u32 x = (u32)p * 0x9E3779B1u ^ i * 0x85EBCA77u ^ g * 0xC2B2AE3Du;
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x;
}

static void fill(unsigned long p)
{
    u32 *w = region + p * WORDS;
    for (unsigned i = 0; i < WORDS; i++) w[i] = expect(p, i, gen[p]);
}

/* FNV-1a over every word, and how many words differ from what they must hold. */
static u64 check(u64 *mismatches)
{
    u64 h = 0xCBF29CE484222325ULL, bad = 0;
    for (unsigned long p = 0; p < pages; p++) {
        const u32 *w = region + p * WORDS;
        for (unsigned i = 0; i < WORDS; i++) {
            h = (h ^ w[i]) * 0x100000001B3ULL;
            bad += w[i] != expect(p, i, gen[p]);
        }
    }
    *mismatches = bad;
    return h;
}

static void before_suspend(void)
{
    u64 bad;
    before_sum = check(&bad);
    printf("mem-check: before suspend: checksum 0x%llx, %llu mismatches\n", before_sum, bad);
}

static void after_resume(long rc)
{
    u64 bad, sum = check(&bad);
    printf("mem-check: after resume (%s): checksum 0x%llx (%s), %llu mismatches\n", rc == 0 ? "new domain" : "cancelled", sum,
           sum == before_sum ? "unchanged" : "CHANGED", bad);
}

void mem_check(void)
{
    u64 mb = cmdline_u64("mb", 4), rate = cmdline_u64("rate", 256), seconds = cmdline_u64("seconds", 0);
    int verify = cmdline_u64("verify", 1) != 0;
    if (mb > MAX_MB) mb = MAX_MB;
    pages = (unsigned long)(mb * 256);
    if (!rate) rate = 1;
    region = pages ? pages_alloc_contig(pages) : NULL;
    if (!region) {
        printf("mem-check: cannot get %llu MiB of contiguous free memory (%llu pages free)\n", mb, mm_free_pages());
        return;
    }
    for (unsigned long p = 0; p < pages; p++) fill(p);
    u64 bad, sum = check(&bad);
    printf("mem-check: %llu MiB at %p filled, checksum 0x%llx; rewriting %llu pages/s, %s%llu s\n", mb, (void *)region, sum, rate,
           seconds ? "for " : "forever (", seconds);
    suspend_set_app_hooks(before_suspend, after_resume);
    u64 start = monotonic_ns(), written = 0, next_report = start + 1000000000ULL, total_bad = 0;
    unsigned long cursor = 0;
    for (;;) {
        u64 now = monotonic_ns();
        u64 due = (now - start) / 1000 * rate / 1000000;
        while (written < due) {
            gen[cursor]++;
            fill(cursor);
            written++;
            if (++cursor == pages) cursor = 0;
        }
        if (now >= next_report) {
            if (verify) sum = check(&bad);
            else bad = 0, sum = 0;
            total_bad += bad;
            printf("mem-check: %llu s: %llu pages rewritten, checksum 0x%llx, %llu mismatches\n", (now - start) / 1000000000ULL, written, sum, bad);
            next_report += 1000000000ULL;
            if (next_report <= now) next_report = now + 1000000000ULL;
            if (seconds && now - start >= seconds * 1000000000ULL) break;
        }
        u64 next_page = start + (written + 1) * 1000000000ULL / rate;
        if (next_page < now + 10000000ULL) next_page = now + 10000000ULL;
        block_until(MIN(next_page, next_report));
    }
    suspend_set_app_hooks(NULL, NULL);
    printf("mem-check: done: %llu pages rewritten, %llu mismatches: %s\n", written, total_bad, total_bad ? "FAIL" : "PASS");
}
