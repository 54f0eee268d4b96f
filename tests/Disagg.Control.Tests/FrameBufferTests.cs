using Disagg.Control;
using Disagg.Control.Messages;

namespace Disagg.Control.Tests;

public class FrameBufferTests
{
    [Fact]
    public void FramesArrivingInPiecesOfAnySizeComeOutWholeAndTheBufferGrowsOnlyForALargeFrame()
    {
        var big = ControlCodec.Encode(new ErrorReply(5, new string('x', 100_000)) { Id = 1 });
        var small = ControlCodec.Encode(new OkReply { Id = 2 });
        var stream = big.Concat(small).Concat(small).ToArray();
        foreach (var piece in new[] { 1, 3, 4, 7, 1000, 70_000 })
        {
            var received = new FrameBuffer(16);
            var decoded = new List<ControlMessage>();
            var at = 0;
            while (decoded.Count < 3)
            {
                var status = ControlCodec.TryDecode(received.Unread, ControlCodec.MaxFrame, out var message, out var consumed, out _);
                if (status == FrameStatus.Message)
                {
                    received.Consume(consumed);
                    decoded.Add(message!);
                    continue;
                }

                Assert.Equal(FrameStatus.Incomplete, status);
                received.MakeRoom(ControlCodec.MaxFrame);
                var n = Math.Min(Math.Min(piece, stream.Length - at), received.FreeSpan.Length);
                Assert.True(n > 0, "MakeRoom left no room for the rest of a frame");
                stream.AsSpan(at, n).CopyTo(received.FreeSpan);
                received.Commit(n);
                at += n;
            }

            Assert.Equal(100_000, ((ErrorReply)decoded[0]).Message.Length);
            Assert.Equal([1L, 2L, 2L], decoded.Select(m => m.Id));
            Assert.Equal(0, received.Unread.Length);
        }
    }

    [Fact]
    public void ALengthPastTheLimitNeverGrowsTheBufferPastTheLimit()
    {
        var received = new FrameBuffer(16);
        byte[] header = [0xFF, 0xFF, 0xFF, 0x7F];
        header.CopyTo(received.FreeSpan);
        received.Commit(4);
        received.MakeRoom(4096);
        Assert.InRange(received.FreeSpan.Length, 1, 4096 + FrameBuffer.HeaderSize);
    }
}
