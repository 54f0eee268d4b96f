/* app=blk-bench: 4 KiB requests against the disk, depth in flight, for seconds=T each (default 3):
   sequential write, sequential read, random write, random read (xorshift offsets, 4 KiB aligned), then
   64 KiB sequential read and write. One line each: "blk-bench: <test>: N ops in T ms: X IOPS, Y KB/s".
     mb=M region at the start of the disk (default 16, at most the disk)  depth=D (default 8, at most 16)
     vbd=ID (default: the first disk) */
#include "os.h"

#define MAX_DEPTH 16

struct bench { const char *name; int write, random; u32 sectors; };

static void run(const struct bench *b, struct blk_io *ios, u8 **bufs, u32 depth, u64 region_sectors, u64 seconds)
{
    u64 x = 0x2545F4914F6CDD1DULL, next = 0, ops = 0, errors = 0;
    u64 slots = region_sectors / b->sectors;
    u64 start = monotonic_ns(), deadline = start + seconds * 1000000000ULL;
    int busy[MAX_DEPTH] = { 0 };
    for (u32 i = 0;; i = (i + 1) % depth) {
        if (busy[i]) {
            if (blkfront_wait(&ios[i], deadline + 30000000000ULL) != BLKIF_RSP_OKAY) errors++;
            busy[i] = 0;
            ops++;
        }
        if (monotonic_ns() >= deadline) {
            int any = 0;
            for (u32 j = 0; j < depth; j++) any |= busy[j];
            if (!any) break;
            continue;
        }
        u64 slot;
        if (b->random) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            slot = x % slots;
        } else {
            slot = next++ % slots;
        }
        ios[i] = (struct blk_io){ .op = b->write ? BLKIF_OP_WRITE : BLKIF_OP_READ, .sector = slot * b->sectors, .buf = bufs[i], .nr_sectors = b->sectors };
        if (blkfront_submit(&ios[i]) < 0) {
            errors++;
            continue;
        }
        busy[i] = 1;
    }
    u64 ns = monotonic_ns() - start, bytes = ops * b->sectors * BLK_SECTOR;
    printf("blk-bench: %s: %llu ops in %llu ms: %llu IOPS, %llu KB/s%s\n", b->name, ops, ns / 1000000, ns ? ops * 1000000000ULL / ns : 0,
           ns ? bytes * 1000000ULL / ns : 0, errors ? " (ERRORS)" : "");
    if (errors) printf("blk-bench: %s: %llu errors\n", b->name, errors);
}

void blk_bench(void)
{
    int rc = blkfront_open(cmdline_get("vbd"), cmdline_u64("blk-timeout", 60000));
    if (rc < 0) {
        printf("blk-bench: FAIL no disk: %d\n", rc);
        return;
    }
    const struct blkfront_info *info = blkfront_info();
    u64 region = MIN(cmdline_u64("mb", 16) * 2048, info->sectors);
    u64 seconds = cmdline_u64("seconds", 3);
    u32 depth = (u32)MIN(MAX(cmdline_u64("depth", 8), 1ULL), (u64)MAX_DEPTH);
    u32 big = MIN(128u, blkfront_max_sectors());
    static struct blk_io ios[MAX_DEPTH];
    static u8 *bufs[MAX_DEPTH];
    for (u32 i = 0; i < depth; i++) {
        if (!bufs[i] && !(bufs[i] = pages_alloc_contig(big / 8))) {
            printf("blk-bench: FAIL no memory\n");
            return;
        }
        memset(bufs[i], (int)(0x5A + i), big * BLK_SECTOR);
    }
    printf("blk-bench: %llu MiB region, depth %u, %llu s per test, large requests %u KiB\n", region / 2048, depth, seconds, big / 2);
    const struct bench benches[] = {
        { "seq-write-4k", 1, 0, 8 }, { "seq-read-4k", 0, 0, 8 }, { "rand-write-4k", 1, 1, 8 },
        { "rand-read-4k", 0, 1, 8 }, { "seq-write-large", 1, 0, big }, { "seq-read-large", 0, 0, big },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(benches); i++) run(&benches[i], ios, bufs, depth, region, seconds);
    printf("blk-bench: done: %llu requests, %llu reconnects, %llu bad responses\n", info->completed, info->reconnects, info->bad_responses);
}
