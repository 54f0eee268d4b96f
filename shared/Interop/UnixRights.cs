using System.Net.Sockets;

namespace Disagg.Interop;

/// <summary>
/// Passing file descriptors between processes over a Unix socket (SCM_RIGHTS): a payload and up
/// to <see cref="MaxFds"/> descriptors in one message. Received descriptors are close-on-exec
/// and owned by the caller.
/// </summary>
public static unsafe class UnixRights
{
    public const int MaxFds = 16;

    public static void Send(Socket socket, ReadOnlySpan<byte> payload, ReadOnlySpan<FileDescriptor> fds)
    {
        if (payload.IsEmpty || fds.Length > MaxFds)
        {
            throw new ArgumentException($"a message needs 1+ payload bytes and at most {MaxFds} fds");
        }

        var control = stackalloc byte[ControlSpace(MaxFds)];
        fixed (byte* data = payload)
        {
            var iov = new Libc.IoVec { Base = data, Length = (nuint)payload.Length };
            var msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
            if (fds.Length > 0)
            {
                var cmsg = (Libc.CmsgHdr*)control;
                cmsg->Level = Libc.SolSocket;
                cmsg->Type = Libc.ScmRights;
                cmsg->Length = (nuint)(sizeof(Libc.CmsgHdr) + (fds.Length * sizeof(int)));
                var slots = (int*)(control + sizeof(Libc.CmsgHdr));
                for (var i = 0; i < fds.Length; i++)
                {
                    slots[i] = fds[i].Value;
                }

                msg.Control = control;
                msg.ControlLength = (nuint)ControlSpace(fds.Length);
            }

            var sent = InteropException.Check(Libc.SendMsg((int)socket.Handle, &msg, 0), "sendmsg(SCM_RIGHTS)");
            if (sent != payload.Length)
            {
                throw new InteropException("sendmsg(SCM_RIGHTS): short write", 0);
            }
        }
    }

    /// <summary>Receives one message: returns the payload byte count (0 when the peer closed) and its fds.</summary>
    public static int Receive(Socket socket, Span<byte> buffer, out FileDescriptor[] fds)
    {
        var n = TryReceive(socket, buffer, out fds);
        return n >= 0 ? n : throw new InteropException("recvmsg(SCM_RIGHTS)", Libc.Eagain);
    }

    /// <summary>
    /// As <see cref="Receive"/>, but on a non-blocking socket with nothing to read returns -1 instead of
    /// failing, so an async reader can wait for readability and try again.
    /// </summary>
    public static int TryReceive(Socket socket, Span<byte> buffer, out FileDescriptor[] fds)
    {
        var control = stackalloc byte[ControlSpace(MaxFds)];
        fixed (byte* data = buffer)
        {
            var iov = new Libc.IoVec { Base = data, Length = (nuint)buffer.Length };
            var msg = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)ControlSpace(MaxFds) };
            nint n;
            int errno;
            while ((n = Libc.RecvMsg((int)socket.Handle, &msg, Libc.MsgCmsgCloexec)) < 0
                && (errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError()) != Libc.Eagain)
            {
                if (errno != Libc.Eintr)
                {
                    throw new InteropException("recvmsg(SCM_RIGHTS)", errno);
                }
            }

            if (n < 0)
            {
                fds = [];
                return -1;
            }

            var received = new List<FileDescriptor>();
            if (msg.ControlLength >= (nuint)sizeof(Libc.CmsgHdr))
            {
                var cmsg = (Libc.CmsgHdr*)control;
                if (cmsg->Level == Libc.SolSocket && cmsg->Type == Libc.ScmRights)
                {
                    var count = ((int)cmsg->Length - sizeof(Libc.CmsgHdr)) / sizeof(int);
                    var slots = (int*)(control + sizeof(Libc.CmsgHdr));
                    for (var i = 0; i < count; i++)
                    {
                        received.Add(new FileDescriptor(slots[i]));
                    }
                }
            }

            fds = [.. received];
            return (int)n;
        }
    }

    private static int ControlSpace(int fds) => (sizeof(Libc.CmsgHdr) + (fds * sizeof(int)) + 7) & ~7;
}
