/* pvos entry: a0 = hart id, a1 = start_info (ARCHITECTURE §2). crt0 has set up the stack, .bss, the
   trap vector and the FPU; main parses start_info, brings the subsystems up in dependency order, prints
   the banner and runs the app the command line names. main never returns: every path ends in
   SCHEDOP_shutdown with a reason. */
#include "os.h"
#include "sbi.h"

struct start_info *start_info;
struct shared_info *shared_info;

#define MAX_ARGS 32
static char cmdline_copy[MAX_GUEST_CMDLINE];
static const char *arg_key[MAX_ARGS], *arg_value[MAX_ARGS];
static int nr_args;

static void cmdline_parse(const char *line)
{
    size_t n = 0;
    while (n < sizeof cmdline_copy - 1 && line[n]) n++;
    memcpy(cmdline_copy, line, n);
    cmdline_copy[n] = 0;
    char *p = cmdline_copy;
    while (*p && nr_args < MAX_ARGS) {
        while (*p == ' ' || *p == '\t') *p++ = 0;
        if (!*p) break;
        arg_key[nr_args] = p;
        arg_value[nr_args] = "";
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == '=' && arg_value[nr_args][0] == 0 && p != arg_key[nr_args]) {
                *p = 0;
                arg_value[nr_args] = p + 1;
            }
            p++;
        }
        nr_args++;
    }
}

const char *cmdline_get(const char *key)
{
    /* The last occurrence wins, as with Linux's command line. */
    for (int i = nr_args - 1; i >= 0; i--)
        if (strcmp(arg_key[i], key) == 0) return arg_value[i];
    return NULL;
}

int cmdline_has(const char *key) { return cmdline_get(key) != NULL; }

int cmdline_value_is(const char *key, const char *value)
{
    const char *v = cmdline_get(key);
    return v && strcmp(v, value) == 0;
}

static int parse_u64(const char *s, u64 *out, const char **end)
{
    u64 v = 0;
    int base = 10, digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; }
    for (;; s++, digits++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else break;
        v = v * (u64)base + (u64)d;
    }
    *out = v;
    *end = s;
    return digits > 0;
}

u64 cmdline_u64(const char *key, u64 fallback)
{
    const char *v = cmdline_get(key), *end;
    u64 n;
    if (!v || !parse_u64(v, &n, &end) || *end) return fallback;
    return n;
}

u64 cmdline_size_kib(const char *key, u64 fallback)
{
    const char *v = cmdline_get(key), *end;
    u64 n;
    if (!v || !parse_u64(v, &n, &end)) return fallback;
    switch (*end) {
    case 'k': case 'K': return end[1] ? fallback : n;
    case 'g': case 'G': return end[1] ? fallback : n * 1024 * 1024;
    case 'm': case 'M': return end[1] ? fallback : n * 1024;
    case 0: return n * 1024;
    default: return fallback;
    }
}

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
