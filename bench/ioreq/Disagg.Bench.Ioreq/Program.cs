using System.Diagnostics;
using Disagg.Bench;
using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Service;
using Disagg.TestSupport;

// bench/ioreq: a guest (a bare RISC-V Image: a loop of byte loads from the UART's LSR, then SBI SRST) in an HVM
// domain of the real kernel, its device model the real disagg-qemu-dm. Per read: the difference between a
// long and a short run, over the difference in reads (boot and shutdown cancel). Floor: eventfd ping-pong.
var quick = args.Contains("--quick");
var reads = quick ? 2_000 : 20_000;
const int Few = 100;

var floor = WakeUpFloor.EventfdPingPong(quick ? 2_000 : 20_000);
Report("eventfd-pingpong", floor, "us");

await using var kernel = await KernelProcess.StartAsync(pcpus: 2);
await using var control = await KernelClient.ConnectAsync(kernel.Socket, kernel.Token);
await control.CallAsync<OkReply>(new Subscribe());
var token = (await control.CallAsync<ServiceRegistered>(new RegisterService("qemu-dm", 20))).Token;
var state = Directory.CreateTempSubdirectory("bench-ioreq").FullName;
try
{
    var few = await RunAsync(Few);
    var many = await RunAsync(reads);
    var perRead = (many - few).TotalMicroseconds / (reads - Few);
    Report("mmio-read-qemu-dm", perRead, "us", perRead / floor, "eventfd-pingpong");
    return 0;
}
finally
{
    Directory.Delete(state, recursive: true);
}

async Task<TimeSpan> RunAsync(int count)
{
    var id = (await control.CallAsync<DomainCreated>(new CreateDomain($"ioreq-{count}", GuestIsa.Rv64, 1, 1, 8 << 10, 8 << 10, 256, 0, [ulong.MaxValue], 0, 0, Hvm: true))).DomainId;
    await control.CallAsync<OkReply>(new SetDeviceModel(id, 20));
    using var dm = new ServiceProcess("disagg-qemu-dm", ["--domain", $"{id}", "--state-dir", state, "--console-socket", Path.Combine(state, $"c{id}.sock")], new Dictionary<string, string>
    {
        [ServiceEnvironment.KernelSocketVariable] = kernel.Socket,
        [ServiceEnvironment.TokenVariable] = token,
        [ServiceEnvironment.DomainIdVariable] = "20",
    });
    await dm.StartAsync();
    await control.CallAsync<OkReply>(new LoadKernel(id, Image(count), null, ""));
    var clock = Stopwatch.StartNew();
    await control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Unpause));
    while (true)
    {
        var e = await control.Events.ReadAsync();
        if (e.DomainId == id && e.State is "s" or "c")
        {
            var took = clock.Elapsed;
            await control.CallAsync<OkReply>(new DomainCommand(id, DomainOperation.Destroy));
            return e.State == "s" ? took : throw new InvalidOperationException($"bench ioreq: the guest crashed\n{dm.StdErr}");
        }
    }
}

// A RISC-V Linux Image (boot-image-header.rst) whose code reads the UART's LSR `count` times and powers off.
static byte[] Image(int count)
{
    var b = new byte[4096];
    void At(int offset, uint word) => BitConverter.TryWriteBytes(b.AsSpan(offset), word);
    At(0, 0x0400006F); // j 0x40 (over the header)
    BitConverter.TryWriteBytes(b.AsSpan(8), 0x20_0000UL); // text_offset
    BitConverter.TryWriteBytes(b.AsSpan(16), 0x10_0000UL); // image_size
    BitConverter.TryWriteBytes(b.AsSpan(32), 2u);
    "RISCV\0\0\0"u8.CopyTo(b.AsSpan(0x30));
    "RSC\x05"u8.CopyTo(b.AsSpan(0x38));
    uint[] body =
    [
        U(0x37, 5, 0x1000_0000), // lui t0, UART
        U(0x37, 7, ((uint)count + 0x800) & 0xFFFFF000), // lui t2, count (upper, rounded for the signed addi)
        I(0x13, 7, 0, 7, (int)(count & 0xFFF) - ((count & 0x800) << 1)), // addi t2, t2, count (lower)
        I(0x03, 6, 4, 5, 5), // loop: lbu t1, 5(t0)
        I(0x13, 7, 0, 7, -1), // addi t2, t2, -1
        0xFE039CE3, // bnez t2, loop (-8)
        I(0x13, 10, 0, 0, 0), // a0 = 0: shutdown
        I(0x13, 11, 0, 0, 0), // a1 = 0: no reason
        I(0x13, 16, 0, 0, 0), // a6 = 0: system_reset
        U(0x37, 17, 0x5352_5000), // lui a7, "SRST"
        I(0x13, 17, 0, 17, 0x354), // addi a7, a7, 0x354
        0x00000073, // ecall
    ];
    for (var i = 0; i < body.Length; i++)
    {
        At(0x40 + (4 * i), body[i]);
    }

    return b;

    static uint U(uint op, int rd, uint imm) => (imm & 0xFFFFF000) | ((uint)rd << 7) | op;
    static uint I(uint op, int rd, uint f3, int rs1, int imm) => ((uint)imm << 20) | ((uint)rs1 << 15) | (f3 << 12) | ((uint)rd << 7) | op;
}

static void Report(string figure, double value, string unit, double? ratio = null, string? versus = null) =>
    new BenchReport("ioreq").Figure(figure, value, unit, ratio, versus);

