using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Disagg.Abi.Hvm;

namespace Disagg.Abi.Tests;

/// <summary>struct ioreq as public/hvm/ioreq.h lays it out: a device model written against Xen's header reads our page.</summary>
public sealed class IoreqLayoutTests
{
    private static int Offset(string field) => (int)Marshal.OffsetOf<IoreqSlot>(field);

    [Fact]
    public void IoreqIs32BytesAtXensOffsets()
    {
        Assert.Equal(32, Unsafe.SizeOf<IoreqSlot>());
        Assert.Equal(IoreqSlot.SlotSize, Unsafe.SizeOf<IoreqSlot>());
        Assert.Equal(0, Offset(nameof(IoreqSlot.Address)));
        Assert.Equal(8, Offset(nameof(IoreqSlot.Data)));
        Assert.Equal(16, Offset(nameof(IoreqSlot.Count)));
        Assert.Equal(20, Offset(nameof(IoreqSlot.Size)));
        Assert.Equal(24, Offset(nameof(IoreqSlot.VpEventPort)));
        Assert.Equal(28, Offset(nameof(IoreqSlot.Pad0)));
        Assert.Equal(30, Offset(nameof(IoreqSlot.Flags)));
        Assert.Equal(31, Offset(nameof(IoreqSlot.Type)));
    }

    [Fact]
    public void TheFlagsByteHoldsStateInItsLowNibbleAndTheDirectionInBit5()
    {
        Assert.Equal(0x21, IoreqSlot.MakeFlags(IoreqState.Ready, read: true));
        Assert.Equal(0x03, IoreqSlot.MakeFlags(IoreqState.ResponseReady, read: false));
        Assert.Equal(IoreqState.InProcess, IoreqSlot.StateOf(0x22));
        Assert.True(IoreqSlot.IsRead(0x23));
        Assert.False(IoreqSlot.DataIsPointer(0x23));
        Assert.Equal(1, (int)IoreqState.Ready);
        Assert.Equal(3, (int)IoreqState.ResponseReady);
    }
}
