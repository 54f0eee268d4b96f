using System.Buffers.Binary;
using Disagg.Virtio.Device;
using Disagg.Virtio.Memory;
using Disagg.Virtio.Queue;
using Disagg.Virtio.State;

namespace Disagg.Virtio.Transport;

/// <summary>
/// The virtio-mmio version-2 register file of one device (virtio 1.x §4.2.2), as Linux's virtio_mmio
/// driver and QEMU's virt board use it: identification, 64-bit feature negotiation through selectors,
/// per-queue setup through QueueSel, notifications, the interrupt status and its level-triggered line,
/// the status field with reset, ConfigGeneration and the device's configuration space at 0x100.
/// </summary>
/// <remarks>
/// Registers take aligned 32-bit accesses only; the configuration space takes aligned 1, 2 and 4-byte
/// accesses (§4.2.2.2: 64-bit fields are read as two 32-bit halves). Anything else is refused
/// (<c>false</c>, counted in <see cref="InvalidAccesses"/>); the host answers it as QEMU does (reads 0,
/// writes ignored). Write-only registers read 0. Not thread-safe: one device, one thread.
/// </remarks>
public sealed class VirtioMmioTransport : IVirtqueueHost, IVirtioDeviceHost
{
    private readonly IVirtioDevice _device;
    private readonly IInterruptLine _interrupt;
    private readonly IVirtioTransportObserver? _observer;
    private readonly Virtqueue[] _queues;
    private readonly ulong _offered;
    private uint _deviceFeaturesSel;
    private uint _driverFeaturesSel;
    private ulong _driverFeatures;
    private uint _queueSel;
    private uint _interruptStatus;
    private uint _configGeneration;
    private bool _lineAsserted;

    public VirtioMmioTransport(IVirtioDevice device, IGuestMemory memory, IInterruptLine interrupt, IVirtioTransportObserver? observer = null)
    {
        _device = device;
        _interrupt = interrupt;
        _observer = observer;
        _offered = device.Features | VirtioFeature.Transport;
        _queues = new Virtqueue[device.QueueCount];
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i] = new Virtqueue(this, memory, i, device.MaxQueueSize(i));
        }

        device.Attach(this);
    }

    public string DeviceName => _device.Name;

    public IVirtioDevice Device => _device;

    public DeviceStatus Status { get; private set; }

    /// <summary>The features in force: the driver's, once FEATURES_OK was accepted; 0 before.</summary>
    public ulong NegotiatedFeatures => (Status & DeviceStatus.FeaturesOk) != 0 ? _driverFeatures : 0;

    public ulong OfferedFeatures => _offered;

    public uint InterruptStatus => _interruptStatus;

    /// <summary>The guest error that stopped the device, until a reset.</summary>
    public VirtioFault? LastFault { get; private set; }

    /// <summary>Guest protocol errors since start (each set DEVICE_NEEDS_RESET).</summary>
    public long FaultCount { get; private set; }

    /// <summary>Misaligned, wrongly sized or out-of-window accesses refused since start.</summary>
    public long InvalidAccesses { get; private set; }

    public Virtqueue Queue(int index) => _queues[index];

    public int QueueCount => _queues.Length;

    /// <summary>A guest load at <paramref name="offset"/> in the window. False: an access the transport refuses.</summary>
    public bool TryRead(uint offset, int size, out uint value)
    {
        value = 0;
        if (offset >= VirtioMmioRegister.Config)
        {
            if (!ConfigWindow.Valid(offset - VirtioMmioRegister.Config, size))
            {
                InvalidAccesses++;
                return false;
            }

            value = ConfigWindow.Read(_device, offset - VirtioMmioRegister.Config, size);
            return true;
        }

        if (size != 4 || (offset & 3) != 0)
        {
            InvalidAccesses++;
            return false;
        }

        var q = SelectedQueue;
        value = offset switch
        {
            VirtioMmioRegister.MagicValue => VirtioMmioRegister.Magic,
            VirtioMmioRegister.Version => VirtioMmioRegister.TransportVersion,
            VirtioMmioRegister.DeviceId => (uint)_device.Type,
            VirtioMmioRegister.VendorId => VirtioMmioRegister.QemuVendorId,
            VirtioMmioRegister.DeviceFeatures => _deviceFeaturesSel < 2 ? (uint)(_offered >> (32 * (int)_deviceFeaturesSel)) : 0,
            VirtioMmioRegister.QueueNumMax => q?.MaxSize ?? 0,
            VirtioMmioRegister.QueueReady => q is { Ready: true } ? 1u : 0u,
            VirtioMmioRegister.QueueDescLow => (uint)(q?.DescTable ?? 0),
            VirtioMmioRegister.QueueDescHigh => (uint)((q?.DescTable ?? 0) >> 32),
            VirtioMmioRegister.QueueDriverLow => (uint)(q?.AvailRing ?? 0),
            VirtioMmioRegister.QueueDriverHigh => (uint)((q?.AvailRing ?? 0) >> 32),
            VirtioMmioRegister.QueueDeviceLow => (uint)(q?.UsedRing ?? 0),
            VirtioMmioRegister.QueueDeviceHigh => (uint)((q?.UsedRing ?? 0) >> 32),
            VirtioMmioRegister.InterruptStatus => _interruptStatus,
            VirtioMmioRegister.Status => (uint)Status,
            // No shared memory regions: a length of all ones says "none" to Linux's vm_get_shm_region (as QEMU).
            VirtioMmioRegister.ShmLenLow or VirtioMmioRegister.ShmLenHigh => uint.MaxValue,
            VirtioMmioRegister.ShmBaseLow or VirtioMmioRegister.ShmBaseHigh => uint.MaxValue,
            VirtioMmioRegister.ConfigGeneration => _configGeneration,
            _ => 0, // write-only and reserved registers
        };
        return true;
    }

    /// <summary>A guest store of <paramref name="value"/> at <paramref name="offset"/>. False: an access the transport refuses.</summary>
    public bool TryWrite(uint offset, int size, uint value)
    {
        if (offset >= VirtioMmioRegister.Config)
        {
            if (!ConfigWindow.Valid(offset - VirtioMmioRegister.Config, size))
            {
                InvalidAccesses++;
                return false;
            }

            ConfigWindow.Write(_device, offset - VirtioMmioRegister.Config, size, value);
            return true;
        }

        if (size != 4 || (offset & 3) != 0)
        {
            InvalidAccesses++;
            return false;
        }

        switch (offset)
        {
            case VirtioMmioRegister.QueueNotify:
                Notify(value);
                return true;
            case VirtioMmioRegister.InterruptAck:
                _interruptStatus &= ~value;
                UpdateLine();
                return true;
            case VirtioMmioRegister.Status:
                WriteStatus(value);
                break;
            case VirtioMmioRegister.DeviceFeaturesSel:
                _deviceFeaturesSel = value;
                break;
            case VirtioMmioRegister.DriverFeaturesSel:
                _driverFeaturesSel = value;
                break;
            case VirtioMmioRegister.DriverFeatures:
                // §2.2.2: features are fixed once FEATURES_OK is set; later writes change nothing.
                if (_driverFeaturesSel >= 2 || (Status & DeviceStatus.FeaturesOk) != 0)
                {
                    return true;
                }

                var shift = 32 * (int)_driverFeaturesSel;
                _driverFeatures = (_driverFeatures & ~(0xFFFF_FFFFUL << shift)) | ((ulong)value << shift);
                break;
            case VirtioMmioRegister.QueueSel:
                _queueSel = value;
                break;
            case VirtioMmioRegister.QueueReady:
                WriteQueueReady(value);
                break;
            case VirtioMmioRegister.QueueNum:
            case VirtioMmioRegister.QueueDescLow:
            case VirtioMmioRegister.QueueDescHigh:
            case VirtioMmioRegister.QueueDriverLow:
            case VirtioMmioRegister.QueueDriverHigh:
            case VirtioMmioRegister.QueueDeviceLow:
            case VirtioMmioRegister.QueueDeviceHigh:
                if (!QueueSetupRegisters.TryWrite(SelectedQueue, offset, value))
                {
                    return true;
                }

                break;
            default:
                return true; // read-only or reserved: ignored, as QEMU does
        }

        _observer?.StateChanged();
        return true;
    }

    /// <summary>The record a restarted or restored device takes back (<see cref="RestoreState"/>).</summary>
    public VirtioDeviceState SaveState()
    {
        var queues = new VirtqueueState[_queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            queues[i] = _queues[i].SaveState();
        }

        return new VirtioDeviceState
        {
            DeviceId = (uint)_device.Type,
            Status = (byte)Status,
            DeviceFeaturesSel = _deviceFeaturesSel,
            DriverFeaturesSel = _driverFeaturesSel,
            DriverFeatures = _driverFeatures,
            QueueSel = _queueSel,
            InterruptStatus = _interruptStatus,
            ConfigGeneration = _configGeneration,
            Queues = queues,
        };
    }

    /// <summary>
    /// Takes a saved record back into a fresh transport. <paramref name="afterRestart"/>: the record may be
    /// older than guest memory (the device model was killed while running), so each queue resumes from
    /// used.idx in guest memory. Then call <see cref="Resume"/>. A record for another device or with values
    /// this device cannot have is a <see cref="VirtioStateException"/>.
    /// </summary>
    public void RestoreState(VirtioDeviceState state, bool afterRestart)
    {
        VirtioStateRules.Check(state, _device, _offered);
        _device.Reset();
        Status = (DeviceStatus)state.Status;
        _deviceFeaturesSel = state.DeviceFeaturesSel;
        _driverFeaturesSel = state.DriverFeaturesSel;
        _driverFeatures = state.DriverFeatures;
        _queueSel = state.QueueSel;
        _interruptStatus = state.InterruptStatus;
        _configGeneration = state.ConfigGeneration;
        LastFault = null;
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i].RestoreState(state.Queues[i], afterRestart);
        }

        if ((Status & DeviceStatus.FeaturesOk) != 0)
        {
            ApplyFeatures();
        }

        UpdateLiveness();
        UpdateLine();
    }

    /// <summary>
    /// After <see cref="RestoreState"/>: runs every live queue (requests the old process took but never
    /// completed run again; a notification it never handled is not lost) and interrupts the guest once, in
    /// case a completion was published just before the old process died, before its interrupt.
    /// </summary>
    public void Resume()
    {
        if (!IsLive)
        {
            return;
        }

        foreach (var queue in _queues)
        {
            if (queue.Live)
            {
                _device.QueueNotified(queue);
                queue.FinishBatch();
            }
        }

        RaiseInterrupt(VirtioMmioRegister.InterruptUsedBuffer);
    }

    void IVirtioDeviceHost.ConfigChanged()
    {
        _configGeneration++;
        if ((Status & DeviceStatus.DriverOk) != 0)
        {
            RaiseInterrupt(VirtioMmioRegister.InterruptConfigChange);
        }

        _observer?.StateChanged();
    }

    void IVirtqueueHost.QueueFaulted(VirtioFault fault)
    {
        LastFault = fault;
        FaultCount++;
        Status |= DeviceStatus.DeviceNeedsReset;
        UpdateLiveness();

        // §2.1.2: a device that sets DEVICE_NEEDS_RESET after DRIVER_OK sends a configuration change notification.
        if ((Status & DeviceStatus.DriverOk) != 0)
        {
            RaiseInterrupt(VirtioMmioRegister.InterruptConfigChange);
        }

        _observer?.Faulted(fault);
        _observer?.StateChanged();
    }

    void IVirtqueueHost.UsedBufferNotification() => RaiseInterrupt(VirtioMmioRegister.InterruptUsedBuffer);

    private bool IsLive => (Status & (DeviceStatus.DriverOk | DeviceStatus.DeviceNeedsReset | DeviceStatus.Failed)) == DeviceStatus.DriverOk;

    private Virtqueue? SelectedQueue => _queueSel < (uint)_queues.Length ? _queues[_queueSel] : null;

    private void Notify(uint queueIndex)
    {
        // §4.2.3.3: without VIRTIO_F_NOTIFICATION_DATA the value is the queue index.
        if (queueIndex >= (uint)_queues.Length)
        {
            return;
        }

        var queue = _queues[queueIndex];
        if (!queue.Live)
        {
            return;
        }

        _device.QueueNotified(queue);
        queue.FinishBatch();
    }

    private void WriteStatus(uint value)
    {
        if (value == 0)
        {
            Reset();
            return;
        }

        var next = (DeviceStatus)(byte)value;
        var newly = next & ~Status;
        if ((newly & DeviceStatus.FeaturesOk) != 0 && !FeaturesAcceptable())
        {
            // §3.1.1: the driver reads FEATURES_OK back and gives up when it is not set.
            next &= ~DeviceStatus.FeaturesOk;
        }

        Status = next | (Status & DeviceStatus.DeviceNeedsReset);
        if ((Status & DeviceStatus.FeaturesOk) != 0 && (newly & DeviceStatus.FeaturesOk) != 0)
        {
            ApplyFeatures();
        }

        UpdateLiveness();
    }

    private bool FeaturesAcceptable() =>
        (_driverFeatures & ~_offered) == 0 && (_driverFeatures & VirtioFeature.Version1) != 0;

    private void ApplyFeatures()
    {
        foreach (var queue in _queues)
        {
            queue.EventIdx = (_driverFeatures & VirtioFeature.EventIdx) != 0;
            queue.IndirectDesc = (_driverFeatures & VirtioFeature.IndirectDesc) != 0;
        }

        _device.FeaturesAccepted(_driverFeatures);
    }

    private void Reset()
    {
        Status = DeviceStatus.None;
        _deviceFeaturesSel = _driverFeaturesSel = _queueSel = 0;
        _driverFeatures = 0;
        _interruptStatus = 0;
        LastFault = null;
        foreach (var queue in _queues)
        {
            queue.Reset();
        }

        _device.Reset();
        UpdateLine();
    }

    private void WriteQueueReady(uint value)
    {
        var queue = SelectedQueue;
        if (queue is null)
        {
            return;
        }

        if ((value & 1) == 0)
        {
            queue.Disable();
            return;
        }

        if (!queue.Ready)
        {
            queue.TryEnable();
            UpdateLiveness();
        }
    }

    private void UpdateLiveness()
    {
        var live = IsLive;
        foreach (var queue in _queues)
        {
            queue.Live = live && queue.Ready && queue.Fault is null;
        }
    }

    private void RaiseInterrupt(uint bits)
    {
        _interruptStatus |= bits;
        UpdateLine();
    }

    private void UpdateLine()
    {
        var asserted = _interruptStatus != 0;
        if (asserted != _lineAsserted)
        {
            _lineAsserted = asserted;
            _interrupt.SetLevel(asserted);
        }
    }
}
