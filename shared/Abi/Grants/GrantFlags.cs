namespace Disagg.Abi.Grants;

/// <summary>grant_entry_v1.flags (grant_table.h GTF_*): type in bits 0-1, then modifiers.</summary>
[Flags]
public enum GrantFlags : ushort
{
    Invalid = 0,
    PermitAccess = 1,
    AcceptTransfer = 2,
    TypeMask = 3,
    ReadOnly = 1 << 2,
    Reading = 1 << 3,
    Writing = 1 << 4,
    PwtMask = 1 << 5,
    PcdMask = 1 << 6,
    SubPage = 1 << 8,
}
