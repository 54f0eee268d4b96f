using Disagg.DomainImage;
using Disagg.Kernel.Core.Console;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Memory;
using Disagg.Kernel.Core.Persist;
using Disagg.Kernel.Cpu;

namespace Disagg.Kernel.Core.Migration;

/// <summary>
/// The target's side of a live migration: reads the stream <see cref="MigrationSender"/> writes, record by
/// record, into a new paused domain — memory goes straight into its frames as each round arrives, so the
/// stop costs only the last round and the state records. The header is checked against this host (an rv32
/// host refuses an rv64 guest there, before any memory moves); sizes before the domain is created; every
/// record in its place. Any failure, the stream's end included, destroys what was built: nothing is left.
/// </summary>
public static class MigrationReceiver
{
    private const int PageSize = (int)PvLayout.PageSize;

    /// <param name="name">The new domain's name; the source's by default.</param>
    /// <returns>The new domain, paused, with the header's config (the toolstack's).</returns>
    /// <param name="deviceModel">Gets an HVM domain's device model state (the source toolstack's, for this one's device model).</param>
    /// <param name="timeline">Gets the target's steps up to VcpusLoaded; <paramref name="lastWake"/> says when the stream's read last woke from waiting (StopRoundArrived).</param>
    /// <param name="applied">Pages applied so far (memory and zero runs), for the CaughtUp reports; updated after each run.</param>
    public static (Domain Domain, byte[] Config) Receive(Hypervisor hypervisor, Stream stream, string? name, int consoleBackend, int xenstoreDomain, ISbiConsole? sbiConsole = null, Action<DeviceModelRecord>? deviceModel = null, MigrationTimeline? timeline = null, Func<long>? lastWake = null, System.Runtime.CompilerServices.StrongBox<long>? applied = null)
    {
        var reader = new ImageRecordReader(stream);
        var header = Expect<ImageHeader>(reader, ImageRecordKind.Header);
        var host = DomainRestore.HostOf(hypervisor);
        if (header.Isa > host.WidestGuest)
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.Header, 0, $"an {header.Isa} guest on an {host.WidestGuest} host");
        }

        var sizes = Expect<DomainRecord>(reader, ImageRecordKind.Domain);
        if (sizes.MaxPages > hypervisor.Budget.TotalPages)
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, ImageRecordKind.Domain, 1, $"maxmem {sizes.MaxPages} pages, the host has {hypervisor.Budget.TotalPages}");
        }

        // An HVM domain's platform record comes next (its state again at the stop); anything else is the first round's.
        reader.MaxVcpus = sizes.MaxVcpus;
        var firstIndex = reader.Index;
        var first = reader.Read(out var firstKind);
        var hvm = first is HvmPlatformRecord;
        if (first is HvmPlatformRecord announced && (announced.Sources != Hvm.VirtLayout.PlicSources || announced.Contexts != sizes.MaxVcpus))
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, firstKind, firstIndex, $"a PLIC of {announced.Sources} sources and {announced.Contexts} contexts");
        }

        var domain = hypervisor.CreateDomain(new DomainSpec
        {
            Name = string.IsNullOrEmpty(name) ? sizes.Name : name,
            Isa = header.Isa == ImageIsa.Rv32 ? IsaWidth.Rv32 : IsaWidth.Rv64,
            Vcpus = sizes.Vcpus,
            MaxVcpus = sizes.MaxVcpus,
            MemoryPages = 1,
            MaxMemoryPages = sizes.MaxPages,
            Weight = sizes.Weight,
            Cap = sizes.Cap,
            ConsoleBackend = consoleBackend,
            XenstoreDomain = xenstoreDomain,
            Hvm = hvm,
        }, sbiConsole);
        try
        {
            var received = new bool[sizes.MaxPages];
            var pages = 0L;
            object? record = hvm ? null : first;
            var kind = firstKind;
            while (true)
            {
                var index = record is null ? reader.Index : firstIndex;
                if (record is null)
                {
                    record = reader.Read(out kind);
                }

                if (record is MemoryRecord run)
                {
                    Fit(sizes, run.FirstFrame, run.PageCount, kind, index);
                    var bytes = reader.LastPages; // expanded by the reader's check
                    for (var p = 0; p < run.PageCount; p++)
                    {
                        bytes.Slice(p * PageSize, PageSize).CopyTo(Page(hypervisor, domain, received, run.FirstFrame + (ulong)p));
                    }

                    pages += run.PageCount;
                    applied?.Value = pages;
                }
                else if (record is ZeroPagesRecord zero)
                {
                    Fit(sizes, zero.FirstFrame, zero.Count, kind, index);
                    for (var p = 0L; p < zero.Count; p++)
                    {
                        var frame = zero.FirstFrame + (ulong)p;
                        var ram = frame - PvLayout.RamFirstFrame;
                        if (ram < (ulong)received.Length && !received[ram] && ram != 0)
                        {
                            // A frame populated now is a fresh zero page of the backing: writing zeros would
                            // only make the host allocate it (and cost the stop round a pass over the RAM).
                            Populate(hypervisor, domain, received, frame);
                            continue;
                        }

                        Page(hypervisor, domain, received, frame).Clear();
                    }

                    pages += zero.Count;
                    applied?.Value = pages;
                }
                else if (record is DomainRecord)
                {
                    break;
                }
                else
                {
                    throw OutOfOrder(kind, index);
                }

                record = null;
            }

            var final = (DomainRecord)record;
            var stopAt = System.Diagnostics.Stopwatch.GetTimestamp(); // the stop round's state records start here
            timeline?.Mark(MigrationStep.PagesApplied, stopAt);
            timeline?.Mark(MigrationStep.StopRoundArrived, lastWake?.Invoke() ?? 0);
            if (final.MaxPages != sizes.MaxPages || final.MaxVcpus != sizes.MaxVcpus)
            {
                throw new DomainImageException(DomainImageError.Malformed, kind, reader.Index - 1, $"the domain changed size during the migration ({sizes.MaxPages} -> {final.MaxPages} pages)");
            }

            var vcpus = new List<VcpuRecord>();
            while (vcpus.Count < final.MaxVcpus)
            {
                var vcpu = Expect<VcpuRecord>(reader, ImageRecordKind.Vcpu);
                if (vcpu.Index != vcpus.Count)
                {
                    throw new DomainImageException(DomainImageError.Malformed, ImageRecordKind.Vcpu, reader.Index - 1, $"vcpu {vcpu.Index} where vcpu {vcpus.Count} belongs");
                }

                vcpus.Add(vcpu);
            }

            var image = new Disagg.DomainImage.DomainImage
            {
                Header = header,
                Domain = final,
                Vcpus = vcpus,
                Memory = [],
                ZeroPages = [],
                EventChannels = Expect<EventChannelsRecord>(reader, ImageRecordKind.EventChannels),
                GrantTable = Expect<GrantTableRecord>(reader, ImageRecordKind.GrantTable),
            };
            if (hvm)
            {
                image = image with { HvmPlatform = Expect<HvmPlatformRecord>(reader, ImageRecordKind.HvmPlatform) };
                var index = reader.Index;
                var next = reader.Read(out var nextKind);
                if (next is DeviceModelRecord model)
                {
                    image = image with { DeviceModel = model };
                    Expect<EndRecord>(reader, ImageRecordKind.End);
                }
                else if (next is not EndRecord)
                {
                    throw OutOfOrder(nextKind, index);
                }
            }
            else
            {
                Expect<EndRecord>(reader, ImageRecordKind.End);
            }

            var endAt = System.Diagnostics.Stopwatch.GetTimestamp();
            timeline?.Mark(MigrationStep.StateRead, endAt);
            DomainRestore.Check(hypervisor, image); // ports and grant frames this host can bind
            for (var i = 0; i < received.Length; i++)
            {
                if (!received[i])
                {
                    domain.Memory.Depopulate(PvLayout.RamFirstFrame + (ulong)i); // never sent: ballooned out at the source
                }
            }

            timeline?.Mark(MigrationStep.DomainBuilt);
            DomainRestore.RestoreState(hypervisor, domain, image);
            timeline?.Mark(MigrationStep.VcpusLoaded);
            if (image.DeviceModel is { } state)
            {
                deviceModel?.Invoke(state);
            }

            hypervisor.Log.WriteKernel($"received domain {domain.Id} '{domain.Name}' ({header.Isa}): {pages} pages in {reader.Index} records; state records read in {System.Diagnostics.Stopwatch.GetElapsedTime(stopAt, endAt).TotalMilliseconds:F2} ms, built in {System.Diagnostics.Stopwatch.GetElapsedTime(endAt).TotalMilliseconds:F2} ms");
            return (domain, header.Config);
        }
        catch
        {
            hypervisor.DestroyDomain(domain);
            throw;
        }
    }

    /// <summary>The frame's page, populating a RAM frame on its first arrival (within maxmem and the host budget).</summary>
    private static unsafe Span<byte> Page(Hypervisor hypervisor, Domain domain, bool[] received, ulong frame)
    {
        Populate(hypervisor, domain, received, frame);
        return new Span<byte>(domain.Memory.Frame(frame, forWrite: true), PageSize);
    }

    private static void Populate(Hypervisor hypervisor, Domain domain, bool[] received, ulong frame)
    {
        var ram = frame - PvLayout.RamFirstFrame;
        if (ram < (ulong)received.Length && !received[ram])
        {
            if (!domain.Memory.Populate(frame))
            {
                throw new MemoryBudgetExceededException(domain.Id, 1, hypervisor.Budget.FreePages, hypervisor.Budget.TotalPages);
            }

            received[ram] = true;
        }
    }

    private static void Fit(DomainRecord domain, ulong first, long count, ImageRecordKind kind, int index)
    {
        if (DomainRestore.Host.FramesFit is { } fit && !fit(domain, first, count))
        {
            throw new DomainImageException(DomainImageError.DoesNotFitHost, kind, index, $"frames 0x{first:x}+{count} are outside a {domain.MaxPages}-page domain");
        }
    }

    private static T Expect<T>(ImageRecordReader reader, ImageRecordKind expected)
    {
        var index = reader.Index;
        var record = reader.Read(out var kind);
        return record is T typed && kind == expected ? typed : throw OutOfOrder(kind, index);
    }

    private static DomainImageException OutOfOrder(ImageRecordKind kind, int index) => new(
        index == 0 ? DomainImageError.ForeignImage : DomainImageError.BadSequence, kind, index,
        "out of migration order (header, domain, [HVM platform], memory rounds, domain, vCPUs, event channels, grant table, [HVM platform, device model], end)");
}
