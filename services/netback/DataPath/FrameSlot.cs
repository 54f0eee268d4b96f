namespace Disagg.Netback.DataPath;

/// <summary>
/// A frame of the current batch: it sits in copy-buffer page <see cref="Page"/>, came from a vif's tx request
/// (copied in by grant copy number <see cref="CopyIndex"/>) or from a TAP uplink (read directly, CopyIndex -1), or
/// is a vif's announcement the switch wrote itself (<see cref="Announce"/>, CopyIndex -1: no tx request to answer).
/// </summary>
internal struct FrameSlot
{
    public Vif? Source;
    public SwitchBridge? UplinkBridge;
    public Uplink.TapUplink? Uplink;
    public ushort RequestId;
    public ushort Flags;
    public int Size;
    public int Page;
    public int CopyIndex;
    public short CopyStatus;
    public bool Announce;
}

/// <summary>A frame being copied into a destination guest's posted rx buffer.</summary>
internal struct RxDelivery
{
    public Vif Destination;
    public ushort RequestId;
    public ushort Flags;
    public int Size;

    /// <summary>The backlog page the frame came from (back to the pool once copied), or -1.</summary>
    public int BacklogPage;
}
