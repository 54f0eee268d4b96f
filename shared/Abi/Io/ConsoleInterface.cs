using System.Runtime.InteropServices;

namespace Disagg.Abi.Io;

/// <summary>
/// struct xencons_interface (io/console.h, spec §5): one page, two byte rings with free-running
/// u32 indices masked by the array size. The guest produces Out, the console service In.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 3088)]
public unsafe struct ConsoleInterface
{
    public const int InSize = 1024;
    public const int OutSize = 2048;

    [FieldOffset(0)] public fixed byte In[InSize];
    [FieldOffset(1024)] public fixed byte Out[OutSize];
    [FieldOffset(3072)] public uint InCons;
    [FieldOffset(3076)] public uint InProd;
    [FieldOffset(3080)] public uint OutCons;
    [FieldOffset(3084)] public uint OutProd;
}
