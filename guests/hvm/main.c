/* pvos, HVM flavour: entry from the Image loader with a0 = hart id, a1 = the device tree (hvm.h). Reads
   the command line from /chosen/bootargs, moves the console to the UART, and runs the app it names. */
#include "hvm.h"
#include "sbi.h"

int main(xlen_t hartid, xlen_t fdt)
{
    const char *bootargs;
    uintptr_t initrd;
    if (!fdt_chosen((const void *)fdt, &bootargs, &initrd)) {
        printf("pvos-hvm: no device tree at a1=0x%lx; the HVM flavour boots as a Linux Image\n", fdt);
        sbi_shutdown(SBI_SRST_REASON_FAILURE);
    }
    uart_init();
    cmdline_parse(bootargs ? bootargs : "");
    hvm_mm_init(initrd && initrd < fdt ? initrd : fdt);
    printf("pvos: Disagg guest OS, HVM flavour, rv%d, hart %lu, device tree at 0x%lx, %llu KiB free\n", XLEN, hartid, fdt, mm_free_pages() * 4);
    printf("pvos: cmd_line '%s'\n", bootargs ? bootargs : "");
    const char *app = cmdline_get("app");
    app_run(app && *app ? app : "hello");
    os_shutdown(SHUTDOWN_poweroff);
}
