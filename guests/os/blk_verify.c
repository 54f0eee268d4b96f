/* app=blk-verify: writes a checksummed pattern over a range of the disk, flushes, reads it back and
   reports every sector that differs. Each 512-byte sector carries a header (magic, its own sector
   number, the pass) and xorshift bytes seeded from both, ending in a checksum, so a sector written to
   the wrong place, an old pass's sector, or a torn one all show as mismatches.
     sectors=N (default 2048)  start=S (default 0)  depth=D requests in flight (default 8, at most 16)
     req=K sectors per request (default 128: 64 KiB, indirect segments when offered; capped to what
     the backend takes)  seconds=T: repeat passes until T seconds have passed (default: one pass)
     vbd=ID (default: the first disk)
     check-pass=P: only read the range and check it holds pass P's pattern (written by someone else, e.g.
     the host into the image file)
   A write the backend answered with an error (a real or an injected EIO) is an error, not corruption: its
   sectors may then hold this pass's pattern or the previous one's (nothing else), and are checked for that.
   Lines: "blk-verify: pass P: ..." per pass, then "blk-verify: done: P passes, M mismatches, E errors"
   and "blk-verify: PASS" or "blk-verify: FAIL ...". */
#include "os.h"

#define MAX_DEPTH 16
static const char magic[8] = "PVOSBLK";

struct sector_head { char magic[8]; u64 sector; u32 pass; u32 seed; };

static u32 sector_seed(u64 sector, u32 pass) { return (u32)(sector * 2654435761u) ^ (pass * 40503u) ^ 0x9E3779B9u; }

static void fill(u8 *p, u64 sector, u32 pass)
{
    struct sector_head h = { .sector = sector, .pass = pass, .seed = sector_seed(sector, pass) };
    memcpy(h.magic, magic, sizeof magic);
    memcpy(p, &h, sizeof h);
    u32 x = h.seed | 1, sum = 0;
    for (unsigned i = sizeof h; i < BLK_SECTOR - 4; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (u8)x;
    }
    for (unsigned i = 0; i < BLK_SECTOR - 4; i++) sum = sum * 31 + p[i];
    memcpy(p + BLK_SECTOR - 4, &sum, 4);
}

static u64 mismatches, io_errors, unwritten;

/* This pass's writes that failed: their sectors were not promised to hold the new pattern. */
#define MAX_FAILED 64
static struct { u64 first; u32 n; } failed[MAX_FAILED];
static u32 nfailed;

static int write_failed(u64 sector)
{
    for (u32 i = 0; i < nfailed; i++)
        if (sector >= failed[i].first && sector < failed[i].first + failed[i].n) return 1;
    return 0;
}

static void check(const u8 *p, u64 sector, u32 pass)
{
    static u8 want[BLK_SECTOR];
    fill(want, sector, pass);
    if (memcmp(p, want, BLK_SECTOR) == 0) return;
    if (write_failed(sector)) {
        /* The failed write left the sector as the previous pass wrote it (before pass 1: whatever was there). */
        if (pass > 1) fill(want, sector, pass - 1);
        if (pass == 1 || memcmp(p, want, BLK_SECTOR) == 0) {
            unwritten++;
            return;
        }
    }
    if (++mismatches <= 8) {
        const struct sector_head *h = (const void *)p;
        printf("blk-verify: MISMATCH sector %llu (pass %u): holds sector %llu pass %u%s\n", sector, pass, h->sector, h->pass,
               memcmp(h->magic, magic, sizeof magic) ? " (no magic)" : "");
    }
}

struct slot { struct blk_io io; u8 *buf; u64 first; int busy; };

static void finish(struct slot *s, u32 pass)
{
    int rc = blkfront_wait(&s->io, monotonic_ns() + cmdline_u64("blk-timeout", 60000) * 1000000ULL);
    s->busy = 0;
    if (rc != BLKIF_RSP_OKAY) {
        if (++io_errors <= 8) printf("blk-verify: %s of sector %llu failed: %d\n", s->io.op == BLKIF_OP_READ ? "read" : "write", s->first, rc);
        if (s->io.op == BLKIF_OP_WRITE) {
            if (nfailed == MAX_FAILED) {
                printf("blk-verify: FAIL more than %u failed writes in one pass\n", MAX_FAILED);
                os_shutdown(SHUTDOWN_crash);
            }
            failed[nfailed].first = s->first;
            failed[nfailed++].n = s->io.nr_sectors;
        }
        if (rc == -XEN_ETIMEDOUT) {
            printf("blk-verify: FAIL the backend did not answer\n");
            os_shutdown(SHUTDOWN_crash);
        }
        return;
    }
    if (s->io.op == BLKIF_OP_READ)
        for (u32 i = 0; i < s->io.nr_sectors; i++) check(s->buf + i * BLK_SECTOR, s->first + i, pass);
}

/* One sweep over [start, start+sectors): writes (pass's pattern) or reads and checks, depth in flight. */
static void sweep(struct slot *slots, u32 depth, u32 req, u64 start, u64 sectors, int write, u32 pass)
{
    u64 chunk = 0;
    for (u64 at = start; at < start + sectors; at += req, chunk++) {
        struct slot *s = &slots[chunk % depth];
        if (s->busy) finish(s, pass);
        u32 n = (u32)MIN((u64)req, start + sectors - at);
        if (write)
            for (u32 i = 0; i < n; i++) fill(s->buf + i * BLK_SECTOR, at + i, pass);
        s->io = (struct blk_io){ .op = write ? BLKIF_OP_WRITE : BLKIF_OP_READ, .sector = at, .buf = s->buf, .nr_sectors = n };
        s->first = at;
        int rc = blkfront_submit(&s->io);
        if (rc < 0) {
            printf("blk-verify: FAIL cannot submit at sector %llu: %d\n", at, rc);
            os_shutdown(SHUTDOWN_crash);
        }
        s->busy = 1;
    }
    for (u32 i = 0; i < depth; i++)
        if (slots[i].busy) finish(&slots[i], pass);
}

void blk_verify(void)
{
    int rc = blkfront_open(cmdline_get("vbd"), cmdline_u64("blk-timeout", 60000));
    if (rc < 0) {
        printf("blk-verify: FAIL no disk: %d\n", rc);
        return;
    }
    const struct blkfront_info *info = blkfront_info();
    u64 start = cmdline_u64("start", 0), sectors = cmdline_u64("sectors", 2048), seconds = cmdline_u64("seconds", 0);
    u32 depth = (u32)MIN(MAX(cmdline_u64("depth", 8), 1ULL), (u64)MAX_DEPTH);
    u32 req = (u32)MIN(MAX(cmdline_u64("req", 128), 1ULL), (u64)blkfront_max_sectors());
    if (start >= info->sectors || sectors > info->sectors - start) {
        printf("blk-verify: FAIL sectors %llu..%llu are beyond the disk's %llu\n", start, start + sectors, info->sectors);
        return;
    }
    static struct slot slots[MAX_DEPTH];
    for (u32 i = 0; i < depth; i++)
        if (!slots[i].buf && !(slots[i].buf = pages_alloc_contig((req * BLK_SECTOR + PAGE_SIZE - 1) / PAGE_SIZE))) {
            printf("blk-verify: FAIL no memory for %u buffers of %u sectors\n", depth, req);
            return;
        }
    printf("blk-verify: sectors %llu..%llu, %u requests of %u sectors in flight, %s\n", start, start + sectors - 1, depth, req,
           seconds ? "looping" : "one pass");
    u64 began = monotonic_ns();
    u32 pass = 0;
    if (cmdline_has("check-pass")) {
        pass = (u32)cmdline_u64("check-pass", 1);
        sweep(slots, depth, req, start, sectors, 0, pass);
        printf("blk-verify: checked %llu sectors for pass %u: %llu mismatches, %llu errors\n", sectors, pass, mismatches, io_errors);
        seconds = 0;
    } else do {
        pass++;
        u64 before = mismatches;
        nfailed = 0;
        sweep(slots, depth, req, start, sectors, 1, pass);
        int frc = info->flush || info->barrier ? blkfront_flush() : 0;
        if (frc) {
            io_errors++;
            printf("blk-verify: flush failed: %d\n", frc);
        }
        sweep(slots, depth, req, start, sectors, 0, pass);
        printf("blk-verify: pass %u: wrote and read %llu sectors, %llu mismatches; %llu reconnects, %llu requests re-issued, %llu bad responses\n",
               pass, sectors, mismatches - before, info->reconnects, info->reissued, info->bad_responses);
    } while (seconds && monotonic_ns() - began < seconds * 1000000000ULL);
    printf("blk-verify: done: %u passes, %llu mismatches, %llu errors, %llu reconnects, %llu re-issued, %llu leaked grants\n", pass,
           mismatches, io_errors, info->reconnects, info->reissued, info->leaked_grants);
    if (unwritten) printf("blk-verify: %llu sectors of failed writes held the previous pattern (not corruption)\n", unwritten);
    if (mismatches || io_errors) printf("blk-verify: FAIL %llu mismatches, %llu errors\n", mismatches, io_errors);
    else printf("blk-verify: PASS\n");
}
