/* The HVM flavour's apps (app= on the command line), the PV flavour's own code over virtio:
     hello                    the virtio-mmio slots and what sits in them, then exit
     blk-verify, blk-bench    as in the PV flavour (os/blk_verify.c, os/blk_bench.c), on the first virtio disk
     net-selftest, ping, udp-echo, udp-sink, udp-blast   as in the PV flavour (net/apps.c), on virtio-net
   Each ends through exit= (poweroff, the default; reboot; crash), by SBI SRST. */
#include "hvm.h"
#include "sbi.h"
#include <stdarg.h>

void os_shutdown(unsigned reason)
{
    if (reason == SHUTDOWN_reboot) sbi_call(SBI_EXT_SRST, 0, SBI_SRST_COLD_REBOOT, SBI_SRST_REASON_NONE, 0);
    sbi_shutdown(reason == SHUTDOWN_poweroff ? SBI_SRST_REASON_NONE : SBI_SRST_REASON_FAILURE);
}

void os_crash(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("pvos: crash: %s\n", line);
    sbi_shutdown(SBI_SRST_REASON_FAILURE); /* SRST with reason failure is Xen's crash */
}

static void app_exit(void)
{
    const char *how = cmdline_get("exit");
    if (how && strcmp(how, "reboot") == 0) os_shutdown(SHUTDOWN_reboot);
    if (how && strcmp(how, "crash") == 0) os_crash("exit=crash requested");
    os_shutdown(SHUTDOWN_poweroff);
}

static void hello(void)
{
    static const char *const names[] = { "empty", "net", "blk", "console", "entropy" };
    for (int slot = VIRTIO_MMIO_SLOTS - 1; slot >= 0; slot--) {
        uintptr_t base = VIRTIO_MMIO_BASE + VIRTIO_MMIO_STRIDE * (unsigned)slot;
        u32 id = mmio_read32(base + 8);
        if (id) printf("pvos: virtio-mmio slot %d at 0x%lx: device %u (%s)\n", slot, base, id, id < ARRAY_SIZE(names) ? names[id] : "?");
    }
    printf("Hello from pvos (rv%d), HVM flavour: %llu KiB free\n", XLEN, mm_free_pages() * 4);
    app_exit();
}

void blk_verify(void);
void blk_bench(void);
int net_app_run(const char *name);

void app_run(const char *name)
{
    if (strcmp(name, "hello") == 0) hello();
    else if (strcmp(name, "blk-verify") == 0) blk_verify();
    else if (strcmp(name, "blk-bench") == 0) blk_bench();
    else if (!net_app_run(name)) {
        printf("pvos: unknown app '%s' (hello, blk-verify, blk-bench, net-selftest, ping, udp-echo, udp-sink, udp-blast)\n", name);
        os_crash("no such app");
    }
    app_exit();
}
