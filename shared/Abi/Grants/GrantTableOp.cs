namespace Disagg.Abi.Grants;

/// <summary>grant_table_op sub-operations (grant_table.h GNTTABOP_*).</summary>
public enum GrantTableOp : uint
{
    MapGrantRef = 0,
    UnmapGrantRef = 1,
    SetupTable = 2,
    DumpTable = 3,
    Copy = 5,
    QuerySize = 6,
    SetVersion = 8,
    GetVersion = 10,
}
