#!/usr/bin/env python3
"""Writes shared/Control/ControlWire.g.cs (the kernel control protocol) and
services/toolstack/Protocol/DaemonWire.g.cs (the CLI-daemon protocol): MessagePack codecs with one writer
and one reader per message, no converter built at run time (Nerdbank.MessagePack's shape-based converters cost
a NativeAOT process 3-40 ms and ~1 MB of allocation per message type on first use: a restarting service
paid ~80 ms before its first request, every CLI command ~200 ms). The wire form is exactly what the
[DerivedTypeShape] union on ControlMessage / DaemonMessage writes ([tag, {name: value, ...}], the constructor's parameters in order, then Id); ControlWireTests and
DaemonWireTests check every case against Nerdbank's own serializer.

Adding a message: add its record and union tag, add a line to the protocol's table below, run
`python3 tools/gen-control-wire.py`, commit both. `--out DIR` writes the two files under DIR instead of
the tree: GeneratedCodecTests (tests/Disagg.Control.Tests) does that in `make test` and fails when the
checked-in files differ from a fresh generation.
"""
import os
import sys

OUT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
if len(sys.argv) == 3 and sys.argv[1] == "--out":
    OUT_ROOT = sys.argv[2]
elif len(sys.argv) != 1:
    sys.exit("usage: gen-control-wire.py [--out DIR]")

# name: (tag, [(field, kind, optional-default-or-None)])
# kinds: i16 u16 i32 u32 i64 u64 bool str bin bin? i64? enum:T list:u64 arr:i16 list:R arr:R (R a nested record)
MESSAGES = [
    ("Hello", 1, "Token:str ProtocolVersion:i32"),
    ("HelloReply", 2, "DomainId:i32 Privileged:bool KernelVersion:str ProtocolVersion:i32"),
    ("OkReply", 3, ""),
    ("ErrorReply", 4, "Errno:i32 Message:str"),
    ("CreateDomain", 10, "Name:str Isa:enum:GuestIsa Vcpus:i32 MaxVcpus:i32 MemoryKiB:i64 MaxMemoryKiB:i64 Weight:i32 Cap:i32 Affinity:list:u64 ConsoleBackendDomain:i32 XenstoreDomain:i32 Hvm:bool=false"),
    ("DomainCreated", 11, "DomainId:i32 ConsolePort:i32 XenstorePort:i32 ConsoleFrame:u64 XenstoreFrame:u64 DeviceModelState:bin?=null"),
    ("LoadKernel", 12, "DomainId:i32 Kernel:bin Ramdisk:bin? CommandLine:str"),
    ("DomainCommand", 13, "DomainId:i32 Operation:enum:DomainOperation Reason:i32=0"),
    ("ListDomains", 14, ""),
    ("DomainList", 15, "Domains:list:DomainSummary"),
    ("SetMemory", 16, "DomainId:i32 TargetKiB:i64? MaxKiB:i64?"),
    ("SetSchedCredit", 17, "DomainId:i32 Weight:i32 Cap:i32"),
    ("SetVcpuAffinity", 18, "DomainId:i32 Vcpu:i32 Mask:u64"),
    ("SetVcpusOnline", 19, "DomainId:i32 Count:i32"),
    ("ListVcpus", 20, "DomainId:i32"),
    ("VcpuList", 21, "Vcpus:list:VcpuSummary"),
    ("SaveDomain", 22, "DomainId:i32 Path:str Config:bin DeviceModelState:bin?=null"),
    ("RestoreDomain", 23, "Path:str Name:str ConsoleBackendDomain:i32 XenstoreDomain:i32"),
    ("ReadMessageLog", 30, "Offset:i64 MaxBytes:i32 ClearUpTo:i64=0"),
    ("MessageLogChunk", 31, "Text:bin NextOffset:i64 Missed:i64"),
    ("GetHostInfo", 32, ""),
    ("HostInfo", 33, "Pcpus:i32 TotalMemoryKiB:i64 FreeMemoryKiB:i64 KernelVersion:str XenInterface:str UptimeNs:i64"),
    ("Subscribe", 34, ""),
    ("DomainEvent", 35, "DomainId:i32 State:str ShutdownReason:i32 TimestampNs:i64 Detail:str=\"\""),
    ("ReadConsole", 36, "DomainId:i32 Offset:i64 MaxBytes:i32"),
    ("ConsoleChunk", 37, "DomainId:i32 Text:bin NextOffset:i64 Missed:i64"),
    ("WriteConsoleInput", 38, "DomainId:i32 Data:bin"),
    ("ConsoleInputAccepted", 39, "Bytes:i32"),
    ("RegisterService", 40, "Name:str DomainId:i32"),
    ("ServiceRegistered", 41, "DomainId:i32 Token:str"),
    ("OpenServiceChannel", 50, "BufferPages:i32 GrantFrames:i32=0"),
    ("ServiceChannelOpened", 51, "DomainId:i32 MaxPorts:i32 BufferPages:i32 GrantFrames:i32=0"),
    ("AllocUnboundPort", 52, "RemoteDomain:i32"),
    ("BindInterdomainPort", 53, "RemoteDomain:i32 RemotePort:i32"),
    ("SendEvent", 54, "Port:i32"),
    ("CloseEventPort", 55, "Port:i32"),
    ("EventPortBound", 56, "Port:i32"),
    ("MapGrantRef", 57, "Domain:i32 Ref:u32 ReadOnly:bool"),
    ("GrantMapped", 58, "Handle:i64 Frame:u64"),
    ("UnmapGrantRef", 59, "Handle:i64"),
    ("GrantCopyBatch", 60, "Ops:arr:GrantCopyOp"),
    ("GrantCopyResult", 61, "Status:arr:i16"),
    ("AllocSharedPage", 62, ""),
    ("SharedPageAllocated", 63, "Frame:u64"),
    ("WatchConsoles", 160, ""),
    ("ConsoleActivity", 161, "DomainId:i32"),
    ("SetDeviceModel", 100, "Domain:i32 DeviceModelDomain:i32 AnswerTimeoutMs:i32=0"),
    ("MapIoreqPage", 101, "Domain:i32"),
    ("IoreqPageMapped", 102, "Domain:i32 Vcpus:i32 RamBytes:u64=0"),
    ("SetIrqLevel", 103, "Domain:i32 Irq:i32 Asserted:bool"),
    ("DeviceModelShutdown", 104, "Domain:i32 Reason:i32"),
    ("ReadGuestMemory", 105, "Domain:i32 Address:u64 Length:i32"),
    ("GuestMemoryData", 106, "Data:bin"),
    ("WriteGuestMemory", 107, "Domain:i32 Address:u64 Data:bin"),
    ("GuestMemoryBatch", 180, "Domain:i32 Writes:list:GuestMemoryWrite ReadAddress:u64 ReadLength:i32"),
    ("MapGuestPages", 290, "Domain:i32 Address:u64 Pages:i32"),
    ("GuestPagesMapped", 291, "Domain:i32 Address:u64 Pages:i32"),
    ("UnmapGuestPages", 292, "Domain:i32 Address:u64 Pages:i32"),
    ("CleanDirtyLog", 130, "DomainId:i32"),
    ("DirtyBitmap", 131, "Bitmap:bin DirtyPages:i64"),
    ("MigrationSend", 132, "DomainId:i32 Stage:enum:MigrationStage FirstRecord:i32 Config:bin Verify:bool=false Sent:i64=0 DeviceModelState:bin?=null Pause:bool=false"),
    ("MigrationRoundSent", 133, "Records:i32 Pages:i64 Bytes:i64 DirtyPages:i64 ElapsedNs:i64 TargetDomainId:i32=0 BuiltNs:i64=0 ResumedNs:i64=0 Unconfirmed:str=\"\" Timeline:bin?=null"),
    ("MigrationReceive", 134, "Name:str ConsoleBackendDomain:i32 XenstoreDomain:i32 Verify:bool=false Paused:bool=false"),
    ("HashMemory", 135, "DomainId:i32"),
    ("MemoryHash", 136, "Hash:u64 Pages:i64"),
    ("GetHostCounters", 150, ""),
    ("HostCounters", 151, "Domains:i32 Services:i32 EventPorts:i32 GrantMaps:i32 SharedPages:i32 FreeMemoryKiB:i64 TotalMemoryKiB:i64"),
    ("InjectChannelFault", 210, "Kind:enum:ChannelFaultKind Count:i32 DelayMs:i32"),
    ("ChannelFaultArmed", 211, "Kind:enum:ChannelFaultKind Armed:i32 Fired:i64"),
]

RECORDS = [
    ("DomainSummary", "DomainId:i32 Name:str State:str ShutdownReason:i32 MemoryKiB:i64 MaxMemoryKiB:i64 TargetKiB:i64 VcpusOnline:i32 MaxVcpus:i32 CpuTimeNs:i64 IsService:bool ConsolePort:i32=0 XenstorePort:i32=0 ConsoleFrame:u64=0 XenstoreFrame:u64=0 ConsoleBackendDomain:i32=0 XenstoreDomain:i32=0 CrashReason:str=\"\""),
    ("VcpuSummary", "DomainId:i32 Vcpu:i32 Pcpu:i32 State:str CpuTimeNs:i64 Affinity:u64 Online:bool"),
    ("GuestMemoryWrite", "Address:u64 Data:bin"),
    ("GrantCopyOp", "SourceIsGrant:bool SourceDomain:i32 SourceRefOrFrame:u64 SourceOffset:u16 DestIsGrant:bool DestDomain:i32 DestRefOrFrame:u64 DestOffset:u16 Length:u16"),
]

DAEMON_MESSAGES = [
    ("HostStatusRequest", 1, ""),
    ("HostDownRequest", 2, "TimeoutSeconds:i32"),
    ("ServiceListRequest", 3, ""),
    ("ServiceActionRequest", 4, "Name:str Action:enum:ServiceAction"),
    ("CreateRequest", 5, "ConfigPath:str Paused:bool Overrides:list:str"),
    ("DomainActionRequest", 6, "Domain:str Action:enum:DomainAction Wait:bool"),
    ("ListRequest", 7, "Long:bool=false"),
    ("MemoryRequest", 8, "Domain:str TargetMiB:i64? MaxMiB:i64?"),
    ("VcpuSetRequest", 9, "Domain:str Count:i32"),
    ("VcpuPinRequest", 10, "Domain:str Vcpu:i32 Cpus:str"),
    ("VcpuListRequest", 11, "Domain:str?"),
    ("SchedCreditRequest", 12, "Domain:str? Weight:i32? Cap:i32?"),
    ("DmesgRequest", 13, "Offset:i64 Clear:bool=false"),
    ("InfoRequest", 14, ""),
    ("ConsoleAttachRequest", 15, "Domain:str ReplayBytes:i32 Follow:bool=true"),
    ("ConsoleInput", 16, "Data:bin"),
    ("DeviceAttachRequest", 17, "Domain:str Kind:enum:DeviceKind Spec:str"),
    ("DeviceDetachRequest", 18, "Domain:str Kind:enum:DeviceKind Device:str Force:bool TimeoutSeconds:i32"),
    ("DeviceListRequest", 19, "Domain:str Kind:enum:DeviceKind"),
    ("ServiceSwapRequest", 20, "Name:str Binary:str TimeoutSeconds:i32"),
    ("ServiceAddRequest", 45, "Name:str Kind:str"),
    ("SaveRequest", 120, "Domain:str Path:str After:enum:SaveAfter TimeoutSeconds:i32"),
    ("RestoreRequest", 121, "Path:str Paused:bool Name:str?"),
    ("SaveProgress", 122, "Phase:str Bytes:i64 TotalBytes:i64"),
    ("SavedReply", 123, "DomainId:i32 Name:str Path:str Bytes:i64 MemoryBytes:i64 ElapsedMs:i64 SuspendMs:i64 After:enum:SaveAfter"),
    ("RestoredReply", 124, "DomainId:i32 Name:str Path:str Bytes:i64 ElapsedMs:i64 Paused:bool"),
    ("HostCountersRequest", 150, ""),
    ("ChannelFaultRequest", 210, "Name:str Kind:enum:Disagg.Control.Messages.ChannelFaultKind Count:i32 DelayMs:i32"),
    ("OkReply", 50, "Message:str"),
    ("ErrorReply", 51, "Message:str"),
    ("HostStatusReply", 52, "StateDir:str DaemonPid:i32 KernelPid:i32? KernelState:str KernelSocket:str DaemonSocket:str UptimeMs:i64 Guests:i32 Services:list:ServiceRow"),
    ("ServiceListReply", 53, "Services:list:ServiceRow"),
    ("CreatedReply", 54, "DomainId:i32 Name:str Warnings:list:str"),
    ("DomainListReply", 55, "Domains:list:DomainRow SampledNs:i64"),
    ("VcpuListReply", 56, "Vcpus:list:VcpuRow"),
    ("SchedCreditReply", 57, "Domains:list:SchedCreditRow"),
    ("DmesgReply", 58, "Text:bin NextOffset:i64 Missed:i64"),
    ("InfoReply", 59, "Pcpus:i32 TotalMemoryMiB:i64 FreeMemoryMiB:i64 KernelVersion:str XenInterface:str ToolstackVersion:str UptimeMs:i64 StateDir:str Sockets:dict"),
    ("ConsoleOutput", 60, "Data:bin Dropped:i64"),
    ("ConsoleClosed", 61, "Reason:str"),
    ("DeviceListReply", 62, "Devices:list:DeviceRow"),
    ("MigrateRequest", 130, "Domain:str Target:str Live:bool Key:str MaxRounds:i32=30 Verify:bool=false"),
    ("MigrateProgress", 131, "Stage:str Round:i32 Pages:i64 Bytes:i64 DirtyPages:i64 DirtyPagesPerSecond:i64 ElapsedMs:i64"),
    ("MigrateReply", 132, "Domain:str Target:str TargetDomainId:i32 Rounds:i32 Pages:i64 Bytes:i64 TotalUs:i64 DowntimeUs:i64 Steps:list:MigrationStepRow TargetClock:bool SuspendUs:i64=0 StopRoundUs:i64=0 ReceivedUs:i64=0 ResumedUs:i64=0 ReleaseUs:i64=0 RequestUs:i64=0 StopHops:i32=0 HandOffHops:i32=0 CatchUpUs:i64=0"),
    ("MigrateChallenge", 140, "Nonce:bin Arch:str"),
    ("MigrateOffer", 141, "Proof:bin Name:str Isa:str MaxMemoryKiB:i64 ConfigPath:str Uuid:str Paused:bool Verify:bool=false State:bin?=null"),
    ("MigrateAnswer", 142, "Accepted:bool Reason:str"),
    ("MigrateReleased", 200, "Held:str State:bin?"),
    ("HostCountersReply", 151, "Domains:i32 Services:i32 EventPorts:i32 GrantMaps:i32 SharedPages:i32 FreeMemoryKiB:i64 TotalMemoryKiB:i64"),
]

DAEMON_RECORDS = [
    ("MigrationStepRow", "Host:str Step:str AtUs:i64"),
    ("DeviceRow", "Devid:i32 Name:str BackendDomain:i32 Handle:i32 State:i32 BackendState:i32 EventChannel:i32 RingRef:str BackendPath:str Error:str?"),
    ("DomainRow", "Name:str Id:i32 MemoryMiB:i64 MaxMemoryMiB:i64 Vcpus:i32 State:str CpuTimeNs:i64 UptimeMs:i64 ConfigJson:str? Reason:str?"),
    ("VcpuRow", "Name:str Id:i32 Vcpu:i32 Pcpu:i32 State:str CpuTimeNs:i64 Affinity:str Online:bool"),
    ("SchedCreditRow", "Name:str Id:i32 Weight:i32 Cap:i32"),
    ("ServiceRow", "Name:str DomainId:i32 Pid:i32? State:str UptimeMs:i64 Restarts:i32 Swaps:i32 Program:str RssBytes:i64 LastExit:str?"),
]

SCALAR = {
    "i16": ("short", "r.ReadInt16()"), "u16": ("ushort", "r.ReadUInt16()"),
    "i32": ("int", "r.ReadInt32()"), "u32": ("uint", "r.ReadUInt32()"),
    "i64": ("long", "r.ReadInt64()"), "u64": ("ulong", "r.ReadUInt64()"),
    "bool": ("bool", "r.ReadBoolean()"),
}


def fields(spec):
    out = []
    for item in spec.split():
        name, kind = item.split(":", 1)
        default = None
        if "=" in kind:
            kind, default = kind.split("=")
        out.append((name, kind, default))
    return out


def csharp_type(kind):
    if kind in SCALAR:
        return SCALAR[kind][0]
    if kind == "str":
        return "string"
    if kind == "bin":
        return "byte[]"
    if kind == "bin?":
        return "byte[]?"
    if kind == "i64?":
        return "long?"
    if kind == "i32?":
        return "int?"
    if kind == "str?":
        return "string?"
    if kind == "dict":
        return "Dictionary<string, string>"
    if kind == "list:str":
        return "string[]"
    if kind.startswith("enum:"):
        return kind[5:]
    if kind == "list:u64":
        return "ulong[]"
    if kind == "arr:i16":
        return "short[]"
    if kind.startswith("list:") or kind.startswith("arr:"):
        return kind.split(":")[1] + "[]"
    raise ValueError(kind)


def write_value(kind, expr):
    if kind in SCALAR or kind in ("str", "str?"):
        return [f"w.Write({expr});"]
    if kind == "dict":
        return [f"WriteDictionary(ref w, {expr});"]
    if kind in ("bin", "bin?"):
        return [f"WriteBin(ref w, {expr});"]
    if kind in ("i64?", "i32?"):
        return [f"WriteNullable(ref w, {expr});"]
    if kind.startswith("enum:"):
        return [f"w.Write((int){expr});"]
    count = expr + (".Length" if kind.startswith("arr:") else ".Count")
    if kind in ("list:u64", "arr:i16", "list:str"):
        return [f"w.WriteArrayHeader({count});", f"foreach (var x in {expr})", "{", "    w.Write(x);", "}"]
    if kind.startswith("list:") or kind.startswith("arr:"):
        rec = kind.split(":")[1]
        return [f"w.WriteArrayHeader({count});", f"foreach (var x in {expr})", "{", f"    Write{rec}(ref w, x);", "}"]
    raise ValueError(kind)


def count_expr(kind, expr):
    return expr + (".Length" if kind in ("arr:i16",) or kind.startswith("arr:") else ".Count")


def read_value(kind, name):
    if kind in SCALAR:
        return SCALAR[kind][1]
    if kind == "str":
        return f'ReadString(ref r, "{name}")'
    if kind == "bin":
        return f'ReadBin(ref r, "{name}")'
    if kind == "bin?":
        return "ReadNullableBin(ref r)"
    if kind == "i64?":
        return "r.TryReadNil() ? null : r.ReadInt64()"
    if kind == "i32?":
        return "r.TryReadNil() ? null : r.ReadInt32()"
    if kind == "str?":
        return "ReadNullableString(ref r)"
    if kind == "dict":
        return f'ReadDictionary(ref r, "{name}")'
    if kind == "list:str":
        return f'ReadArray(ref r, "{name}", static (ref MessagePackReader e) => ReadString(ref e, "{name}"))'
    if kind.startswith("enum:"):
        return f"({kind[5:]})r.ReadInt32()"
    if kind == "list:u64":
        return f'ReadArray(ref r, "{name}", static (ref MessagePackReader e) => e.ReadUInt64())'
    if kind == "arr:i16":
        return f'ReadArray(ref r, "{name}", static (ref MessagePackReader e) => e.ReadInt16())'
    if kind.startswith("list:") or kind.startswith("arr:"):
        rec = kind.split(":")[1]
        return f'ReadArray(ref r, "{name}", Read{rec})'
    raise ValueError(kind)


def emit_writer(name, fs, is_message, lines):
    lines.append(f"    private static void Write{name}(ref MessagePackWriter w, {name} m)")
    lines.append("    {")
    n = len(fs)
    if is_message:
        lines.append(f"        w.WriteMapHeader({n + 1});")
    else:
        lines.append(f"        w.WriteMapHeader({n});")
    for (f, kind, _) in fs:
        lines.append(f'        w.WriteString("{f}"u8);')
        for l in write_value(kind, "m." + f):
            lines.append("        " + l)
    if is_message:
        lines.append('        w.WriteString("Id"u8);')
        lines.append("        w.Write(m.Id);")
    lines.append("    }")
    lines.append("")


def emit_reader(name, fs, is_message, lines):
    lines.append(f"    private static {name} Read{name}(ref MessagePackReader r)")
    lines.append("    {")
    for (f, kind, default) in fs:
        t = csharp_type(kind)
        init = default if default is not None else ("null" if t.endswith("?") else "default")
        if t.endswith("[]") or t == "string" or t.startswith("Dictionary"):
            t += "?"
            init = "null"
        lines.append(f"        {t} f{f} = {init};")
    if is_message:
        lines.append("        long id = 0;")
    required = [i for i, (f, k, d) in enumerate(fs) if d is None]
    mask = sum(1 << i for i in required)
    if mask:
        lines.append("        var seen = 0UL;")
    lines.append("        var count = ReadMapHeader(ref r);")
    lines.append("        for (var i = 0; i < count; i++)")
    lines.append("        {")
    lines.append("            switch (ReadKey(ref r))")
    lines.append("            {")
    for i, (f, kind, _) in enumerate(fs):
        lines.append(f'                case "{f}":')
        lines.append(f"                    f{f} = {read_value(kind, f)};")
        if mask:
            lines.append(f"                    seen |= {1 << i}UL;")
        lines.append("                    break;")
    if is_message:
        lines.append('                case "Id":')
        lines.append("                    id = r.ReadInt64();")
        lines.append("                    break;")
    lines.append("                default:")
    lines.append("                    Skip(ref r);")
    lines.append("                    break;")
    lines.append("            }")
    lines.append("        }")
    lines.append("")
    if mask:
        # The field names are built only on the failure path: a good message allocates nothing for them.
        lines.append(f"        if ((seen & {mask}UL) != {mask}UL)")
        lines.append("        {")
        lines.append(f'            throw Missing(seen, {mask}UL, "{name}", [{", ".join(chr(34) + f + chr(34) for f, k, d in fs)}]);')
        lines.append("        }")
        lines.append("")
    args = []
    for (f, kind, default) in fs:
        t = csharp_type(kind)
        if (t.endswith("[]") or t == "string" or t.startswith("Dictionary")) and kind not in ("bin?",):
            args.append(f"f{f}!")
        else:
            args.append(f"f{f}")
    ctor = f"new {name}({', '.join(args)})"
    if is_message:
        ctor += " { Id = id }"
    lines.append(f"        return {ctor};")
    lines.append("    }")
    lines.append("")


def generate(path, namespace, cls, base, usings, messages, records):
    lines = []
    lines.append("// <auto-generated> by tools/gen-control-wire.py: edit the table there and run it again. </auto-generated>")
    lines.append("#nullable enable")
    for u in usings:
        lines.append(f"using {u};")
    lines.append("")
    lines.append(f"namespace {namespace};")
    lines.append("")
    lines.append(f"internal static class {cls}")
    lines.append("{")
    lines.append("    /// <summary>The union tag of every message case, in tag order.</summary>")
    lines.append("    public static readonly (int Tag, Type Type)[] Cases =")
    lines.append("    [")
    for (n, tag, _) in sorted(messages, key=lambda m: m[1]):
        lines.append(f"        ({tag}, typeof({n})),")
    lines.append("    ];")
    lines.append("")
    lines.append("    /// <summary>The union tag of <paramref name=\"message\"/>'s case; -1 for a type that is not one.</summary>")
    lines.append(f"    public static int TagOf({base} message) => message switch")
    lines.append("    {")
    for (n, tag, _) in messages:
        lines.append(f"        {n} => {tag},")
    lines.append("        _ => -1,")
    lines.append("    };")
    lines.append("")
    lines.append("    /// <summary>Writes the message's map (the tag is written by the caller).</summary>")
    lines.append(f"    public static void WriteBody(ref MessagePackWriter w, {base} message)")
    lines.append("    {")
    lines.append("        switch (message)")
    lines.append("        {")
    for (n, tag, _) in messages:
        lines.append(f"            case {n} m:")
        lines.append(f"                Write{n}(ref w, m);")
        lines.append("                break;")
    lines.append("            default:")
    lines.append('                throw new InvalidOperationException($"{message.GetType().Name} is not a message case (no union tag)");')
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    /// <summary>Reads case <paramref name=\"tag\"/>'s map; null for an unknown tag. Malformed input throws MessagePackSerializationException.</summary>")
    lines.append(f"    public static {base}? ReadBody(int tag, ref MessagePackReader r) => tag switch")
    lines.append("    {")
    for (n, tag, _) in messages:
        lines.append(f"        {tag} => Read{n}(ref r),")
    lines.append("        _ => null,")
    lines.append("    };")
    lines.append("")
    for (n, tag, spec) in messages:
        fs = fields(spec)
        emit_writer(n, fs, True, lines)
        emit_reader(n, fs, True, lines)
    for (n, spec) in records:
        fs = fields(spec)
        emit_writer(n, fs, False, lines)
        emit_reader(n, fs, False, lines)
    while lines[-1] == "":
        lines.pop()
    lines.append("}")
    target = os.path.join(OUT_ROOT, path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write("\n".join(lines) + "\n")


usings = ["Nerdbank.MessagePack", "static Disagg.Control.MessagePackFields"]
generate("shared/Control/ControlWire.g.cs", "Disagg.Control", "ControlWire", "ControlMessage",
         ["Disagg.Control.Messages"] + usings, MESSAGES, RECORDS)
generate("services/toolstack/Protocol/DaemonWire.g.cs", "Disagg.Toolstack.Protocol", "DaemonWire", "DaemonMessage",
         ["Disagg.Control"] + usings, DAEMON_MESSAGES, DAEMON_RECORDS)
