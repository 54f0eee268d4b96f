/* Reads SBI console input as an unmodified guest's early console does (legacy getchar, then DBCN read)
   and echoes each line back upper-cased; a line "." ends it. Sleeps in WFI on a 1 ms timer between polls
   (interrupts stay off: a pending timer still ends WFI) so an idle guest costs the host nothing. */
#include "console.h"
#include "csr.h"
#include "sbi.h"

static void nap(void)
{
    sbi_set_timer((u64)csr_read(time) + 10000); /* 1 ms at 10 MHz */
    asm volatile("wfi");
}

/* Alternates the two SBI read paths so both are exercised: odd lines by getchar, even by DBCN read. */
static int read_line(char *line, int size, int use_dbcn)
{
    int n = 0;
    while (n < size - 1) {
        char c;
        if (use_dbcn) {
            struct sbiret r = sbi_call(SBI_EXT_DBCN, 1, 1, (long)(xlen_t)&c, 0);
            if (r.error != 0) {
                printf("sbi-echo: DBCN read failed: %ld\n", r.error);
                return -1;
            }
            if (r.value == 0) { nap(); continue; }
        } else {
            int g = sbi_getchar();
            if (g < 0) { nap(); continue; }
            c = (char)g;
        }
        if (c == '\r' || c == '\n') break;
        line[n++] = c;
    }
    line[n] = 0;
    return n;
}

int main(xlen_t hart, xlen_t dtb)
{
    char line[128];
    csr_set(sie, SIE_STIE);
    printf("sbi-echo ready\n");
    for (int i = 0;; i++) {
        if (read_line(line, sizeof line, i & 1) < 0) return 1;
        if (line[0] == '.' && line[1] == 0) break;
        for (char *p = line; *p; p++) if (*p >= 'a' && *p <= 'z') *p -= 32;
        printf("echo: %s\n", line);
    }
    printf("sbi-echo done\n");
    return 0;
}
