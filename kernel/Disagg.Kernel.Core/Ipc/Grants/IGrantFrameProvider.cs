namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// Where a domain's grant table frames live in its guest-physical space, and growing the table
/// when the guest asks (GNTTABOP_setup_table). Implemented by the domain's memory layout.
/// </summary>
public interface IGrantFrameProvider
{
    int CurrentFrames { get; }

    int MaxFrames { get; }

    /// <summary>Makes the table at least <paramref name="frames"/> frames long; false if over the maximum.</summary>
    bool TryGrow(int frames);

    /// <summary>The guest frame number of table frame <paramref name="index"/>.</summary>
    ulong GuestFrame(int index);
}
