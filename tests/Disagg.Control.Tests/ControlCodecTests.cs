using System.Buffers.Binary;
using Disagg.Control;
using Disagg.Control.Messages;

namespace Disagg.Control.Tests;

public class ControlCodecTests
{
    public static TheoryData<ControlMessage> Messages() =>
    [
        new Hello("token", ControlCodec.ProtocolVersion) { Id = 1 },
        new HelloReply(0, true, "0.1", 1) { Id = 1 },
        new OkReply { Id = 9 },
        new ErrorReply(12, "domain 3: needs 64 MiB but the host has 16 MiB free of 64 MiB") { Id = 2 },
        new CreateDomain("web", GuestIsa.Rv32, 2, 4, 65536, 131072, 256, 25, [0b11UL, 0b10UL], 0, 1) { Id = 3 },
        new DomainCreated(7, 1, 2, 0x7FF02, 0x7FF03) { Id = 3 },
        new LoadKernel(7, [0x7F, 0x45, 0x4C, 0x46], null, "app=hello") { Id = 4 },
        new DomainCommand(7, DomainOperation.Shutdown, 1) { Id = 5 },
        new DomainList([new DomainSummary(0, "Domain-0", "r", 0, 0, 0, 0, 1, 1, 10, false), new DomainSummary(7, "web", "b", 0, 65536, 131072, 65536, 2, 4, 123456789, false)]) { Id = 6 },
        new SetMemory(7, 32768, null) { Id = 7 },
        new SetVcpuAffinity(7, -1, 0b1) { Id = 8 },
        new VcpuList([new VcpuSummary(7, 0, 1, "r", 5, 0b11, true)]),
        new MessageLogChunk("(d7) hello\n"u8.ToArray(), 11, 0),
        new HostInfo(2, 24 << 20, 20 << 20, "0.1", "4.17", 1_000_000),
        new DomainEvent(7, "s", 0, 42),
        new RegisterService("xenstored", 1) { Id = 10 },
        new ServiceRegistered(1, "svc-token") { Id = 10 },
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void EveryMessageSurvivesTheWire(ControlMessage message)
    {
        var frame = ControlCodec.Encode(message);
        Assert.Equal(FrameStatus.Message, ControlCodec.TryDecode(frame, out var back, out var consumed, out var error));
        Assert.Null(error);
        Assert.Equal(frame.Length, consumed);
        Assert.Equal(message.GetType(), back!.GetType());
        Assert.Equal(message.Id, back.Id);
        Assert.Equal(ControlCodec.Encode(message), ControlCodec.Encode(back)); // same content, compared on the wire
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void TheWireFormIsTheUnionsOwn(ControlMessage message)
    {
        // The codec is generated (tools/gen-control-wire.py) but must write exactly what the [DerivedTypeShape]
        // union writes (ControlWireTests covers every case).
        var union = new Nerdbank.MessagePack.MessagePackSerializer().Serialize<ControlMessage, ControlWitness>(message);
        Assert.Equal(union, ControlCodec.Encode(message)[ControlCodec.HeaderSize..]);
    }

    [Fact]
    public void PartialFramesAskForMoreAndBackToBackFramesSplit()
    {
        var a = ControlCodec.Encode(new OkReply { Id = 1 });
        var b = ControlCodec.Encode(new ListDomains { Id = 2 });
        var both = a.Concat(b).ToArray();
        for (var cut = 0; cut < a.Length; cut++)
        {
            Assert.Equal(FrameStatus.Incomplete, ControlCodec.TryDecode(both.AsSpan(0, cut), out _, out _, out _));
        }

        Assert.Equal(FrameStatus.Message, ControlCodec.TryDecode(both, out var first, out var used, out _));
        Assert.IsType<OkReply>(first);
        Assert.Equal(FrameStatus.Message, ControlCodec.TryDecode(both.AsSpan(used), out var second, out _, out _));
        Assert.Equal(2, second!.Id);
    }

    [Fact]
    public void OversizedFramesAreViolationsBeforeAnythingIsRead()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(header, uint.MaxValue);
        Assert.Equal(FrameStatus.ProtocolViolation, ControlCodec.TryDecode(header, out _, out _, out var error));
        Assert.Contains("over the", error, StringComparison.Ordinal);
    }

    [Fact]
    public void GarbagePayloadsAreViolationsNotExceptions()
    {
        var rng = new Random(3);
        var violations = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var payload = new byte[rng.Next(0, 64)];
            rng.NextBytes(payload);
            var frame = new byte[4 + payload.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
            payload.CopyTo(frame, 4);
            var status = ControlCodec.TryDecode(frame, out var m, out _, out var error);
            Assert.True(status is FrameStatus.Message or FrameStatus.ProtocolViolation);
            if (status == FrameStatus.ProtocolViolation)
            {
                violations++;
                Assert.NotNull(error);
            }
            else
            {
                Assert.NotNull(m);
            }
        }

        Assert.True(violations > 19_000);
    }

    [Fact]
    public void MutatedMessagesAreViolationsOrMessagesNeverExceptions()
    {
        // Valid frames with bytes changed, dropped or appended: the case converters see near-valid input.
        var rng = new Random(5);
        foreach (var row in Messages())
        {
            var good = ControlCodec.Encode(row)[ControlCodec.HeaderSize..];
            for (var i = 0; i < 3_000; i++)
            {
                var payload = good.ToList();
                for (var m = rng.Next(1, 4); m > 0 && payload.Count > 0; m--)
                {
                    var at = rng.Next(payload.Count);
                    switch (rng.Next(3))
                    {
                        case 0: payload[at] = (byte)rng.Next(256); break;
                        case 1: payload.RemoveAt(at); break;
                        default: payload.Insert(at, (byte)rng.Next(256)); break;
                    }
                }

                var frame = new byte[4 + payload.Count];
                BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Count);
                payload.CopyTo(frame, 4);
                var status = ControlCodec.TryDecode(frame, out var message, out _, out var error);
                Assert.True(status == FrameStatus.Message ? message is not null : error is not null, $"status {status}, error {error}");
            }
        }
    }

    [Fact]
    public void AnUnknownMessageTagIsAViolation()
    {
        // [tag, {}] with a tag no message has.
        byte[] payload = [0x92, 0xCD, 0x03, 0xE7, 0x80];
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        Assert.Equal(FrameStatus.ProtocolViolation, ControlCodec.TryDecode(frame, out _, out _, out _));
    }
}
