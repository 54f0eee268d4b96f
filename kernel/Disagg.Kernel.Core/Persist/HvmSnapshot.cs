using Disagg.DomainImage;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Hvm;

namespace Disagg.Kernel.Core.Persist;

/// <summary>An HVM domain's platform (its PLIC, whether a device model was named) as an image record and back.</summary>
internal static class HvmSnapshot
{
    private const byte Level = 1;
    private const byte Pending = 2;
    private const byte InService = 4;

    public static HvmPlatformRecord Capture(Domain domain)
    {
        var machine = domain.Hvm ?? throw new InvalidOperationException($"domain {domain.Id} is not HVM");
        var s = machine.Plic.Save();
        var flags = new byte[s.Sources + 1];
        for (var i = 0; i <= s.Sources; i++)
        {
            flags[i] = (byte)((s.Level[i] ? Level : 0) | (s.Pending[i] ? Pending : 0) | (s.InService[i] ? InService : 0));
        }

        return new HvmPlatformRecord
        {
            Sources = s.Sources,
            Contexts = s.Contexts,
            Priority = s.Priority,
            SourceFlags = flags,
            Enable = s.Enable,
            Threshold = s.Threshold,
            DeviceModel = domain.Ioreq?.DeviceModelDomain >= 0,
        };
    }

    /// <summary>The PLIC as saved; a record of another shape is the image's fault, named as such.</summary>
    public static void Restore(Domain domain, HvmPlatformRecord r, int index)
    {
        var machine = domain.Hvm ?? throw new InvalidOperationException($"domain {domain.Id} is not HVM");
        var flags = r.SourceFlags;
        try
        {
            machine.Plic.Restore(new PlicState(
                r.Sources,
                r.Contexts,
                r.Priority,
                [.. flags.Select(f => (f & Level) != 0)],
                [.. flags.Select(f => (f & Pending) != 0)],
                [.. flags.Select(f => (f & InService) != 0)],
                r.Enable,
                r.Threshold));
        }
        catch (ArgumentException e)
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.HvmPlatform, index, e.Message);
        }
    }
}
