/* pvos entry: a0 = hart id, a1 = start_info (ARCHITECTURE §2). crt0 has set up the stack, .bss, the
   trap vector and the FPU; main parses start_info, brings the subsystems up in dependency order, prints
   the banner and runs the app the command line names. main never returns: every path ends in
   SCHEDOP_shutdown with a reason. */
#include "os.h"
#include "sbi.h"

struct start_info *start_info;
struct shared_info *shared_info;

static void banner(void)
{
    char extra[16] = { 0 };
    long version = HYPERVISOR_xen_version(XENVER_version, NULL);
    HYPERVISOR_xen_version(XENVER_extraversion, extra);
    extra[sizeof extra - 1] = 0;
    printf("pvos: Disagg PV guest OS, rv%d, on Xen %ld.%ld%s (%s)\n", XLEN, version >> 16, version & 0xFFFF, extra,
           start_info->magic);
    printf("pvos: start_info at %p: nr_pages %llu (%llu KiB), shared_info 0x%llx, flags 0x%x\n", (void *)start_info,
           start_info->nr_pages, start_info->nr_pages * 4, start_info->shared_info, start_info->flags);
    printf("pvos: console mfn 0x%llx evtchn %u, xenstore mfn 0x%llx evtchn %u\n", start_info->console_mfn,
           start_info->console_evtchn, start_info->store_mfn, start_info->store_evtchn);
    if (start_info->mod_start) printf("pvos: module at 0x%llx, %llu bytes\n", start_info->mod_start, start_info->mod_len);
    printf("pvos: cmd_line '%s'\n", start_info->cmd_line);
}

int main(xlen_t hartid, xlen_t start_info_address)
{
    start_info = (struct start_info *)start_info_address;
    if (!start_info_address || strncmp(start_info->magic, "xen-", 4) != 0) {
        /* Not booted as a PV domain (run-elf or QEMU pass a device tree): say so where someone sees it. */
        printf("pvos: no start_info at a1=0x%lx; a PV guest must be booted by the toolstack\n", start_info_address);
        sbi_shutdown(SBI_SRST_REASON_FAILURE);
    }
    console_early_init();
    start_info->cmd_line[MAX_GUEST_CMDLINE - 1] = 0;
    cmdline_parse(start_info->cmd_line);
    shared_info = (struct shared_info *)(uintptr_t)start_info->shared_info;
    traps_init();
    banner();
    time_init();
    events_init();
    console_init();
    gnttab_init();
    mm_init();
    irq_enable();
    xenbus_init();
    balloon_init();
    suspend_init();
    const char *app = cmdline_get("app");
    app_run(app && *app ? app : "hello");
    os_shutdown(SHUTDOWN_poweroff);
    (void)hartid;
}
