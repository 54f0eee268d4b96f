namespace Disagg.Xenstored.Permissions;

/// <summary>What a permission entry grants (XS_PERM_* in xenstore.h): the letters n, r, w, b on the wire.</summary>
[Flags]
public enum XsAccess : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Both = Read | Write,
}
