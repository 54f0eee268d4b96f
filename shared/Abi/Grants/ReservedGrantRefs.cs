namespace Disagg.Abi.Grants;

/// <summary>Grant references the toolstack fills in before a guest starts (grant_table.h GNTTAB_RESERVED_*).</summary>
public static class ReservedGrantRefs
{
    public const uint Console = 0;
    public const uint Xenstore = 1;
    public const uint FirstFree = 8;
}
