/* The smallest guest: greets through the SBI console and shuts down cleanly. */
#include "console.h"
#include "csr.h"

int main(xlen_t hart, xlen_t dtb)
{
    printf("Hello from a Disagg guest (rv%d, hart %lu)\n", XLEN, hart);
    return 0;
}
