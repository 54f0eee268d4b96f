using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Disagg.Bench;
using Disagg.Kernel.Core;
using Disagg.Kernel.Core.Domains;
using Disagg.Kernel.Core.Migration;

// bench/migrate dirty-log: what the kernel's dirty log costs a guest that stores flat out, one word per page
// round-robin over 4 MiB (mem-touch at full speed): stores per second with the log off, next to the log on and
// cleaned every 30 ms as pre-copy rounds do (each clean makes every page's first store of the round ask the P2M
// again). Alternating windows of one second, the median of each; ratio = with / without.
// Usage: Disagg.Bench.DirtyLog [--quick]
var quick = args.Contains("--quick");
const int RegionPages = 1024;
const ulong RegionOffset = 0x40000;
var window = TimeSpan.FromMilliseconds(quick ? 300 : 1000);
var cleanEvery = TimeSpan.FromMilliseconds(30);

using var hv = new Hypervisor(1, 64L << 20);
var d = hv.CreateDomain(new DomainSpec { Name = "touch", MemoryPages = 2048, MaxMemoryPages = 2048 });
d.PrepareBoot([new ImageSegment(PvLayout.RamBase, Writer(), 0x1000)], PvLayout.RamBase, "");
d.Unpause();
Thread.Sleep(200); // translated and running

var off = new List<double>();
var on = new List<double>();
var cleans = 0L;
for (var i = 0; i < (quick ? 2 : 5); i++)
{
    off.Add(StoresPerSecond(() => Thread.Sleep(window)));
    DirtyLog.Enable(d);
    on.Add(StoresPerSecond(() =>
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < window)
        {
            Thread.Sleep(cleanEvery);
            DirtyLog.Clean(hv, d);
            cleans++;
        }
    }));
    DirtyLog.Disable(d);
}

hv.DestroyDomain(d);
off.Sort();
on.Sort();
var (without, with) = (off[off.Count / 2], on[on.Count / 2]);
new BenchReport("migrate", "0.0").Figure("dirty-log-stores-per-s", with / 1e6, "M/s", with / without,
    string.Create(CultureInfo.InvariantCulture, $"{without / 1e6:0.0} M/s with the log off"),
    string.Create(CultureInfo.InvariantCulture, $"{RegionPages} pages, a clean every {cleanEvery.TotalMilliseconds:0} ms, {cleans} cleans"));
return 0;

// The guest's stores over a window: the rising value it last stored in the region's first page.
unsafe double StoresPerSecond(Action wait)
{
    var first = (ulong*)d.Memory.Frame((PvLayout.RamBase + RegionOffset) / 4096, forWrite: false);
    var before = Volatile.Read(ref *first);
    var sw = Stopwatch.StartNew();
    wait();
    var after = Volatile.Read(ref *first);
    return (after - before) / sw.Elapsed.TotalSeconds;
}

// x18 = region, x22 = page stride, x20 = the value; forever: store x20 into the first word of each page in turn.
static byte[] Writer()
{
    uint[] code =
    [
        Auipc(18, (uint)(RegionOffset >> 12)),  // 0:  x18 = pc + 0x40000
        Lui(22, 1),                             // 4:  x22 = 4096
        Addi(20, 0, 1),                         // 8:  x20 = 1
        Addi(21, 18, 0),                        // 12: outer: x21 = x18
        Addi(19, 0, RegionPages),               // 16: x19 = pages
        Sd(20, 21, 0),                          // 20: inner: *(u64*)x21 = x20
        Add(21, 21, 22),                        // 24: x21 += 4096
        Addi(20, 20, 1),                        // 28: x20++
        Addi(19, 19, -1),                       // 32: x19--
        Bne(19, 0, -16),                        // 36: -> inner
        Jal(0, -28),                            // 40: -> outer
    ];
    var bytes = new byte[code.Length * 4];
    for (var i = 0; i < code.Length; i++)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), code[i]);
    }

    return bytes;
}

static uint Auipc(int rd, uint imm20) => (imm20 << 12) | ((uint)rd << 7) | 0x17;
static uint Lui(int rd, uint imm20) => (imm20 << 12) | ((uint)rd << 7) | 0x37;
static uint Addi(int rd, int rs1, int imm) => ((uint)(imm & 0xFFF) << 20) | ((uint)rs1 << 15) | ((uint)rd << 7) | 0x13;
static uint Add(int rd, int rs1, int rs2) => ((uint)rs2 << 20) | ((uint)rs1 << 15) | ((uint)rd << 7) | 0x33;
static uint Sd(int rs2, int rs1, int imm) => ((uint)((imm >> 5) & 0x7F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | (3u << 12) | ((uint)(imm & 0x1F) << 7) | 0x23;

static uint Bne(int rs1, int rs2, int off)
{
    var o = (uint)off;
    return (((o >> 12) & 1) << 31) | (((o >> 5) & 0x3F) << 25) | ((uint)rs2 << 20) | ((uint)rs1 << 15) | (1u << 12) | (((o >> 1) & 0xF) << 8) | (((o >> 11) & 1) << 7) | 0x63;
}

static uint Jal(int rd, int off)
{
    var o = (uint)off;
    return (((o >> 20) & 1) << 31) | (((o >> 1) & 0x3FF) << 21) | (((o >> 11) & 1) << 20) | (((o >> 12) & 0xFF) << 12) | ((uint)rd << 7) | 0x6F;
}
