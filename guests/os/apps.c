/* Apps, chosen with app= on the command line (default hello). Each ends through exit= (poweroff, the
   default; reboot; crash) unless it runs forever.
     hello                     banner, a grant-table self-test when domid= is given, then exit
     cpu-burn every=N seconds=S   arithmetic; a progress line every N iterations (default 2000000);
                               stops after S seconds (default: never)
     mem-touch mb=M rate=R seconds=S   dirties R pages/s (default 256) round-robin over M MiB (default 4),
                               a line per second: the load migration needs
     mem-check mb=M rate=R seconds=S   known contents rewritten at R pages/s and checked every second, and
                               around a suspend: save/restore must keep them (mem_check.c)
     echo                      console input echoed back; Ctrl-D (0x04) powers off
     crash crash=fault|store|illegal|panic   a deliberate fatal trap (or panic): the domain crashes
     consback dom=D ...        a console backend for domain D, for tests (consback.c)
     xenbus-test               the xenstore client against xenstored, for tests (xenbus_test.c)
     blk-verify ...            a checksummed pattern written and read back through blkfront (blk_verify.c)
     blk-bench ...             blkfront IOPS and throughput (blk_bench.c)
     blkback-test fe=D ...     a RAM-disk blkif backend that can misbehave, for tests (blkback_test.c)
     net-selftest, netfront-selftest, ping, udp-echo, udp-sink, udp-blast   the network apps (net/apps.c) */
#include "os.h"

static void app_exit(void)
{
    const char *how = cmdline_get("exit");
    if (how && strcmp(how, "reboot") == 0) os_shutdown(SHUTDOWN_reboot);
    if (how && strcmp(how, "crash") == 0) os_crash("exit=crash requested");
    os_shutdown(SHUTDOWN_poweroff);
}

static void hello(void)
{
    printf("Hello from pvos (rv%d): %llu KiB populated, %llu free pages, %u grant frames, console %s\n", XLEN,
           mm_populated_pages() * 4, mm_free_pages(), gnttab_nr_frames(), console_mode_name());
    gnttab_self_test();
    app_exit();
}

static void cpu_burn(void)
{
    u64 every = cmdline_u64("every", 2000000), seconds = cmdline_u64("seconds", 0);
    if (!every) every = 1;
    u64 start = monotonic_ns(), last = start, x = 0x9E3779B97F4A7C15ULL, acc = 0, since = 0;
    printf("cpu-burn: progress every %llu iterations, %s%llu s\n", every, seconds ? "for " : "forever (", seconds);
    for (u64 i = 1;; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x * 0x2545F4914F6CDD1DULL;
        if (++since == every) {
            since = 0;
            u64 now = monotonic_ns(), ms = (now - start) / 1000000, window = now - last;
            last = now;
            printf("cpu-burn: %llu iterations, %llu.%03llu s, %llu iterations/s, acc %llx\n", i, ms / 1000, ms % 1000,
                   window ? every * 1000000000ULL / window : 0, acc);
        }
        if (seconds && (i & 0xFFF) == 0 && monotonic_ns() - start >= seconds * 1000000000ULL) {
            printf("cpu-burn: done: %llu iterations in %llu s, acc %llx\n", i, seconds, acc);
            break;
        }
    }
    app_exit();
}

static void mem_touch(void)
{
    u64 mb = cmdline_u64("mb", 4), rate = cmdline_u64("rate", 256), seconds = cmdline_u64("seconds", 0);
    unsigned long pages = (unsigned long)(mb * 256);
    if (!rate) rate = 1;
    u8 *region = pages ? pages_alloc_contig(pages) : NULL;
    if (!region) {
        printf("mem-touch: cannot get %llu MiB of contiguous free memory (%llu pages free)\n", mb, mm_free_pages());
        app_exit();
    }
    printf("mem-touch: dirtying %llu pages/s over %llu MiB at %p, %s%llu s\n", rate, mb, (void *)region,
           seconds ? "for " : "forever (", seconds);
    u64 start = monotonic_ns(), touched = 0, next_report = start + 1000000000ULL, reported = 0;
    unsigned long cursor = 0;
    u32 round = 0;
    for (;;) {
        u64 now = monotonic_ns();
        u64 due = (now - start) / 1000 * rate / 1000000; /* pages due by now */
        while (touched < due) {
            u32 *page = (u32 *)(region + cursor * PAGE_SIZE);
            page[0] = round;
            page[(touched * 97) % (PAGE_SIZE / 4)] = (u32)touched; /* a second word, anywhere in the page */
            touched++;
            if (++cursor == pages) { cursor = 0; round++; }
        }
        if (now >= next_report) {
            u64 s = (now - start) / 1000000000ULL;
            printf("mem-touch: %llu s: %llu pages dirtied (%llu in the last second), round %u\n", s, touched, touched - reported, round);
            reported = touched;
            next_report += 1000000000ULL;
        }
        if (seconds && now - start >= seconds * 1000000000ULL) {
            printf("mem-touch: done: %llu pages dirtied in %llu s\n", touched, seconds);
            break;
        }
        /* Sleep to the next page due (batched to at most 100 wake-ups a second) or the next report. */
        u64 next_page = start + (touched + 1) * 1000000000ULL / rate;
        if (next_page < now + 10000000ULL) next_page = now + 10000000ULL;
        block_until(MIN(next_page, next_report));
    }
    app_exit();
}

static void echo(void)
{
    printf("echo: type and it comes back; Ctrl-D powers off\n");
    char buf[64];
    for (;;) {
        console_input_event = 0;
        int n = console_read(buf, sizeof buf);
        for (int i = 0; i < n; i++) {
            if (buf[i] == 4) {
                printf("\necho: end of input\n");
                app_exit();
            }
            if (buf[i] == '\r') buf[i] = '\n';
        }
        if (n) {
            console_write(buf, (size_t)n);
            continue;
        }
        /* Ring input arrives with a console event: block with no deadline (no timer at all, tickless).
           SBI getchar input (console=xen, or a broken ring) raises nothing: look again once a second. */
        xlen_t was = irq_save();
        int wait = !console_input_event;
        irq_restore(was);
        if (wait) block_until(console_input_notifies() ? ~0ULL : monotonic_ns() + 1000000000ULL);
    }
}

static void crash(void)
{
    const char *how = cmdline_get("crash");
    printf("crash: %s, on purpose\n", how ? how : "fault");
    if (how && strcmp(how, "panic") == 0) os_crash("panic requested by the crash app");
    if (how && strcmp(how, "illegal") == 0) asm volatile(".word 0");
    if (how && strcmp(how, "store") == 0) *(volatile u32 *)0x1000 = 1;
    (void)*(volatile u32 *)0x1000; /* below RAM, below the special pages: nothing is there */
    os_crash("the deliberate fault did not trap");
}

void consback(void);
void mem_check(void);
void xenbus_test(void);
void blk_verify(void);
void blk_bench(void);
void blkback_test(void);
void netfront_selftest(void);
int net_app_run(const char *name); /* net/apps.c: 1 if name is a network app (it ran) */

void app_run(const char *name)
{
    if (strcmp(name, "hello") == 0) hello();
    else if (strcmp(name, "cpu-burn") == 0) cpu_burn();
    else if (strcmp(name, "mem-touch") == 0) mem_touch();
    else if (strcmp(name, "mem-check") == 0) {
        mem_check();
        app_exit();
    }
    else if (strcmp(name, "echo") == 0) echo();
    else if (strcmp(name, "crash") == 0) crash();
    else if (strcmp(name, "consback") == 0) consback();
    else if (strcmp(name, "xenbus-test") == 0) {
        xenbus_test();
        app_exit();
    } else if (strcmp(name, "blk-verify") == 0) {
        blk_verify();
        app_exit();
    } else if (strcmp(name, "blkback-test") == 0) {
        blkback_test();
    } else if (strcmp(name, "blk-bench") == 0) {
        blk_bench();
        app_exit();
    }
    else if (strcmp(name, "netfront-selftest") == 0) {
        netfront_selftest();
        app_exit();
    }
    else if (net_app_run(name)) app_exit();
    else {
        printf("pvos: unknown app '%s' (hello, cpu-burn, mem-touch, mem-check, echo, crash, consback, xenbus-test, blk-verify, blk-bench, blkback-test, net-selftest, netfront-selftest, ping, udp-echo, udp-sink, udp-blast)\n", name);
        os_crash("no such app");
    }
}
