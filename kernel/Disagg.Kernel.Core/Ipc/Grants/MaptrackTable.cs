using Disagg.Abi.Grants;
using Disagg.Interop;
using Disagg.Kernel.Core.Domains;

namespace Disagg.Kernel.Core.Ipc.Grants;

/// <summary>
/// The grant maps one service domain holds (Xen's maptrack table, grant_table.c): GNTTABOP_map_grant_ref pins a
/// granted page and hands the service a descriptor for exactly that page, a handle names the pin until
/// GNTTABOP_unmap_grant_ref or the service's end releases it, and a granter being destroyed has its maps
/// forgotten first (<see cref="ForgetDomain"/>) so no pin is ever dropped into a grant table that is gone.
/// One lock: maps are set up once per ring or device, never on a data path.
/// </summary>
public sealed class MaptrackTable
{
    private readonly Hypervisor _hypervisor;
    private readonly int _mapper;
    private readonly Dictionary<long, GrantMap> _maps = [];
    private long _nextHandle = 1;

    public MaptrackTable(Hypervisor hypervisor, int mapperDomain)
    {
        _hypervisor = hypervisor;
        _mapper = mapperDomain;
    }

    /// <summary>Maps held now.</summary>
    public int Count
    {
        get
        {
            lock (_maps)
            {
                return _maps.Count;
            }
        }
    }

    /// <summary>
    /// GNTTABOP_map_grant_ref of a guest's page: checks that <paramref name="gref"/> of <paramref name="domain"/> is
    /// granted to the mapper (writable unless <paramref name="readOnly"/>), pins it, and returns a descriptor for
    /// that one page (read-only when asked) that the caller sends and then disposes.
    /// </summary>
    public GrantStatus Map(Domain domain, uint gref, bool readOnly, out long handle, out ulong frame, out FileDescriptor? fd)
    {
        handle = 0;
        frame = 0;
        fd = null;

        // All under the lock a dying domain's ForgetDomain takes before its memory goes: while we hold it
        // and the domain is not dying, its grant table and pages stay.
        lock (_maps)
        {
            if (domain.Dying)
            {
                return GrantStatus.BadDomain;
            }

            var status = domain.Grants.TryAcquire(gref, _mapper, !readOnly, out frame);
            if (status != GrantStatus.Okay)
            {
                return status;
            }

            FileDescriptor? shared;
            try
            {
                shared = domain.Memory.ShareFrame(frame, () => new DomainQuiesce(_hypervisor, domain));
            }
            catch (InteropException)
            {
                shared = null;
            }

            if (shared == null)
            {
                domain.Grants.Release(gref, !readOnly);
                return GrantStatus.BadPage;
            }

            fd = readOnly ? PageAdoption.OpenReadOnly(shared) : shared.Duplicate();
            handle = _nextHandle++;
            _maps[handle] = new GrantMap(domain, domain.Grants, gref, !readOnly);
            return GrantStatus.Okay;
        }
    }

    /// <summary>
    /// Maps a page another service (a native frontend) granted: only its shared pages can be mapped, never its
    /// copy buffer (whose file holds all of it).
    /// </summary>
    public GrantStatus Map(ServiceDomain granter, uint gref, bool readOnly, out long handle, out ulong frame, out FileDescriptor? fd)
    {
        handle = 0;
        frame = 0;
        fd = null;
        if (granter.Grants is not { } table)
        {
            return GrantStatus.BadDomain;
        }

        // Entered under our lock: a closing granter waits for us, then forgets the map we recorded (CloseService).
        lock (_maps)
        {
            if (!granter.GrantView.TryEnter())
            {
                return GrantStatus.BadDomain;
            }

            try
            {
                var status = table.TryAcquire(gref, _mapper, !readOnly, out frame);
                if (status != GrantStatus.Okay)
                {
                    return status;
                }

                if (granter.SharedPage(frame) is not { } page)
                {
                    table.Release(gref, !readOnly);
                    return GrantStatus.BadPage;
                }

                fd = readOnly ? PageAdoption.OpenReadOnly(page.Fd) : page.Fd.Duplicate();
                handle = _nextHandle++;
                _maps[handle] = new GrantMap(granter, table, gref, !readOnly);
                return GrantStatus.Okay;
            }
            finally
            {
                granter.GrantView.Exit();
            }
        }
    }

    /// <summary>GNTTABOP_unmap_grant_ref by handle.</summary>
    public GrantStatus Unmap(long handle)
    {
        lock (_maps)
        {
            // Released under the lock: a domain being destroyed forgets its maps under it first (ForgetDomain),
            // so a pin is never dropped into a grant table that is already gone.
            if (!_maps.Remove(handle, out var map))
            {
                return GrantStatus.BadHandle;
            }

            map.Table.Release(map.Ref, map.Write);
            return GrantStatus.Okay;
        }
    }

    /// <summary>
    /// The granter is being destroyed: drop every map of it without touching its grant table (its memory goes
    /// next). The mapper keeps its own mapping of the page, which stays valid; only the grant is gone.
    /// </summary>
    public void ForgetDomain(object granter)
    {
        lock (_maps)
        {
            foreach (var (handle, map) in _maps.ToArray())
            {
                if (map.Granter == granter)
                {
                    _maps.Remove(handle);
                }
            }
        }
    }

    /// <summary>The mapper is gone: every pin it held is released.</summary>
    public void ReleaseAll()
    {
        lock (_maps)
        {
            foreach (var map in _maps.Values)
            {
                map.Table.Release(map.Ref, map.Write);
            }

            _maps.Clear();
        }
    }

    /// <summary>A grant held mapped: Granter is the <see cref="Domain"/> or native-frontend <see cref="ServiceDomain"/> that granted it.</summary>
    private readonly record struct GrantMap(object Granter, GrantTable Table, uint Ref, bool Write);
}
