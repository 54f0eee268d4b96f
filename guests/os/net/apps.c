/* The network apps' entry (app= on the command line); see net.h and docs/GUESTS.md. */
#include "net.h"

void net_selftest(void);

int net_app_run(const char *name)
{
    if (strcmp(name, "net-selftest") == 0) net_selftest();
    else return 0;
    return 1;
}
