/* Xen's public interface as Disagg's kernel speaks it (ARCHITECTURE §2, shared/Abi, ../spec digest).
   Xen's "unsigned long" fields and guest handles are u64 on both widths (xen_ulong_t, as on Arm), so
   every layout below is the same for RV32 and RV64; the _Static_asserts pin the offsets shared/Abi has. */
#pragma once
#include "types.h"

#define XEN_SBI_EXT 0x0A58454E /* a7 for a hypercall; a6 = the number */
#define PAGE_SHIFT 12
#define PAGE_SIZE 4096UL

/* Hypercall numbers (xen.h). */
#define __HYPERVISOR_memory_op 12
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_grant_table_op 20
#define __HYPERVISOR_vcpu_op 24
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_event_channel_op 32

/* Errno values, returned negated. */
#define XEN_EPERM 1
#define XEN_ENOENT 2
#define XEN_ESRCH 3
#define XEN_EIO 5
#define XEN_E2BIG 7
#define XEN_EAGAIN 11
#define XEN_ENOMEM 12
#define XEN_EACCES 13
#define XEN_EFAULT 14
#define XEN_EBUSY 16
#define XEN_EEXIST 17
#define XEN_ENODEV 19
#define XEN_EISDIR 21
#define XEN_EINVAL 22
#define XEN_ENOSPC 28
#define XEN_EROFS 30
#define XEN_EDEADLK 35
#define XEN_ENOSYS 38
#define XEN_ENOTEMPTY 39
#define XEN_EISCONN 106
#define XEN_ETIMEDOUT 110

typedef u16 domid_t;
typedef u32 evtchn_port_t;
typedef u32 grant_ref_t;
typedef u64 xen_pfn_t;
#define DOMID_SELF ((domid_t)0x7FF0)

/* ---- start_info (xen.h), found at a1 ---- */
#define START_INFO_MAGIC_LEN 32
#define MAX_GUEST_CMDLINE 1024
struct start_info {
    char magic[START_INFO_MAGIC_LEN]; /* "xen-4.17-riscv64" */
    u64 nr_pages;
    u64 shared_info;                  /* guest-physical address */
    u32 flags;
    u32 _pad0;
    u64 store_mfn;                    /* guest frame of the xenstore ring */
    u32 store_evtchn;
    u32 _pad1;
    u64 console_mfn;                  /* guest frame of the console ring */
    u32 console_evtchn;
    u32 _pad2;
    u64 pt_base;
    u64 nr_pt_frames;
    u64 mfn_list;
    u64 mod_start;                    /* guest-physical address of a ramdisk, 0 if none */
    u64 mod_len;
    char cmd_line[MAX_GUEST_CMDLINE];
    u64 first_p2m_pfn;
    u64 nr_p2m_frames;
};
_Static_assert(__builtin_offsetof(struct start_info, nr_pages) == 32, "start_info");
_Static_assert(__builtin_offsetof(struct start_info, store_mfn) == 56, "start_info");
_Static_assert(__builtin_offsetof(struct start_info, console_evtchn) == 80, "start_info");
_Static_assert(__builtin_offsetof(struct start_info, cmd_line) == 128, "start_info");
_Static_assert(sizeof(struct start_info) == 1168, "start_info");

/* ---- shared_info and vcpu_info: the 2-level event ABI ---- */
struct vcpu_time_info {
    u32 version;         /* odd while the kernel updates it */
    u32 _pad0;
    u64 tsc_timestamp;   /* `time` CSR value at system_time */
    u64 system_time;     /* ns since the domain booted */
    u32 tsc_to_system_mul;
    s8 tsc_shift;
    u8 flags;
    u8 _pad1[2];
};
struct vcpu_info {
    u8 evtchn_upcall_pending;
    u8 evtchn_upcall_mask;
    u8 _pad[6];
    u64 evtchn_pending_sel;  /* one bit per 64-port word of evtchn_pending */
    struct vcpu_time_info time;
};
_Static_assert(sizeof(struct vcpu_info) == 48, "vcpu_info");

#define XEN_LEGACY_MAX_VCPUS 32
#define EVTCHN_WORDS 64
#define NR_EVENT_CHANNELS (EVTCHN_WORDS * 64)
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    u64 evtchn_pending[EVTCHN_WORDS];
    u64 evtchn_mask[EVTCHN_WORDS];
    u32 wc_version;
    u32 wc_sec;
    u32 wc_nsec;
    u32 wc_sec_hi;
};
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_pending) == 1536, "shared_info");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_mask) == 2048, "shared_info");
_Static_assert(__builtin_offsetof(struct shared_info, wc_version) == 2560, "shared_info");

/* ---- event_channel_op ---- */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_bind_vcpu 8
#define EVTCHNOP_unmask 9

struct evtchn_alloc_unbound { domid_t dom, remote_dom; evtchn_port_t port; };
struct evtchn_bind_interdomain { domid_t remote_dom; u16 _pad; evtchn_port_t remote_port; evtchn_port_t local_port; };
struct evtchn_bind_virq { u32 virq; u32 vcpu; evtchn_port_t port; };
struct evtchn_bind_ipi { u32 vcpu; evtchn_port_t port; };
struct evtchn_port_op { evtchn_port_t port; };      /* close, send, unmask */
struct evtchn_bind_vcpu { evtchn_port_t port; u32 vcpu; };
struct evtchn_status {
    domid_t dom; u16 _pad; evtchn_port_t port;
    u32 status; u32 vcpu;
    union {
        struct { domid_t dom; } unbound;
        struct { domid_t dom; u16 _pad; evtchn_port_t port; } interdomain;
        u32 virq;
    } u;
};
_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "bind_interdomain");
_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status");
#define EVTCHNSTAT_closed 0
#define EVTCHNSTAT_unbound 1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_virq 4
#define EVTCHNSTAT_ipi 5
#define VIRQ_TIMER 0
#define VIRQ_DEBUG 1
#define VIRQ_CONSOLE 2
#define VIRQ_DOM_EXC 3

/* ---- grant_table_op, v1 ---- */
#define GNTTABOP_setup_table 2
#define GNTTABOP_copy 5
#define GNTTABOP_query_size 6
#define GNTTABOP_set_version 8
#define GNTTABOP_get_version 10

struct grant_entry_v1 { u16 flags; domid_t domid; u32 frame; };
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
#define GTF_invalid 0
#define GTF_permit_access 1
#define GTF_type_mask 3
#define GTF_readonly (1 << 2)
#define GTF_reading (1 << 3)
#define GTF_writing (1 << 4)
#define GREFS_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GNTTAB_RESERVED_CONSOLE 0
#define GNTTAB_RESERVED_XENSTORE 1
#define GNTTAB_NR_RESERVED_ENTRIES 8

struct gnttab_setup_table { domid_t dom; u16 _pad; u32 nr_frames; s16 status; u16 _pad1[3]; u64 frame_list; };
struct gnttab_query_size { domid_t dom; u16 _pad; u32 nr_frames; u32 max_nr_frames; s16 status; u16 _pad1; };
struct gnttab_copy_ptr { u64 ref_or_gmfn; domid_t domid; u16 offset; u32 _pad; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; u16 len; u16 flags; s16 status; u16 _pad; };
struct gnttab_get_version { domid_t dom; u16 _pad; u32 version; };
struct gnttab_set_version { u32 version; };
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "setup_table");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy");
#define GNTCOPY_source_gref (1 << 0)
#define GNTCOPY_dest_gref (1 << 1)
#define GNTST_okay 0

/* ---- memory_op ---- */
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page 2
#define XENMEM_current_reservation 3
#define XENMEM_maximum_reservation 4
#define XENMEM_populate_physmap 6
struct xen_memory_reservation {
    u64 extent_start;   /* guest address of an array of u64 frame numbers */
    u64 nr_extents;
    u32 extent_order;
    u32 mem_flags;
    domid_t domid;
    u16 _pad[3];
};
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "memory_reservation");

/* ---- console_io, xen_version ---- */
#define CONSOLEIO_write 0
#define CONSOLEIO_read 1
#define XENVER_version 0
#define XENVER_extraversion 1
#define XENVER_capabilities 3
#define XENVER_pagesize 7

/* ---- sched_op ---- */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SCHEDOP_poll 3
#define SCHEDOP_shutdown_code 5
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot 1
#define SHUTDOWN_suspend 2
#define SHUTDOWN_crash 3
#define SHUTDOWN_watchdog 4
struct sched_shutdown { u32 reason; };
struct sched_poll { u64 ports; u32 nr_ports; u32 _pad; u64 timeout; /* absolute system time, ns; 0 = none */ };
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");

/* ---- io/console.h ---- */
typedef u32 XENCONS_RING_IDX;
struct xencons_interface {
    char in[1024];
    char out[2048];
    XENCONS_RING_IDX in_cons, in_prod;
    XENCONS_RING_IDX out_cons, out_prod;
};
_Static_assert(__builtin_offsetof(struct xencons_interface, in_cons) == 3072, "xencons");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_prod) == 3084, "xencons");
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

/* ---- io/xs_wire.h: the xenstore ring (spec §6) ---- */
#define XS_CONTROL 0
#define XS_DIRECTORY 1
#define XS_READ 2
#define XS_GET_PERMS 3
#define XS_WATCH 4
#define XS_UNWATCH 5
#define XS_TRANSACTION_START 6
#define XS_TRANSACTION_END 7
#define XS_INTRODUCE 8
#define XS_RELEASE 9
#define XS_GET_DOMAIN_PATH 10
#define XS_WRITE 11
#define XS_MKDIR 12
#define XS_RM 13
#define XS_SET_PERMS 14
#define XS_WATCH_EVENT 15
#define XS_ERROR 16
#define XENSTORE_PAYLOAD_MAX 4096
#define XENSTORE_RING_SIZE 1024
#define XENSTORE_SERVER_FEATURE_RECONNECTION 1
#define XENSTORE_SERVER_FEATURE_ERROR 2
#define XENSTORE_CONNECTED 0
#define XENSTORE_RECONNECT 1
#define XENSTORE_ERROR_NONE 0
struct xsd_sockmsg { u32 type, req_id, tx_id, len; };
typedef u32 XENSTORE_RING_IDX;
struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE];  /* guest -> xenstored */
    char rsp[XENSTORE_RING_SIZE];  /* xenstored -> guest */
    XENSTORE_RING_IDX req_cons, req_prod;
    XENSTORE_RING_IDX rsp_cons, rsp_prod;
    u32 server_features;           /* set by xenstored when it attaches */
    u32 connection;
    u32 error;                     /* Xen 4.16+: why xenstored stopped serving us */
};
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, req_cons) == 2048, "xenstore ring");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, rsp_prod) == 2060, "xenstore ring");
_Static_assert(__builtin_offsetof(struct xenstore_domain_interface, error) == 2072, "xenstore ring");
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

/* ---- io/xenbus.h ---- */
enum xenbus_state {
    XenbusStateUnknown = 0,
    XenbusStateInitialising = 1,
    XenbusStateInitWait = 2,
    XenbusStateInitialised = 3,
    XenbusStateConnected = 4,
    XenbusStateClosing = 5,
    XenbusStateClosed = 6,
    XenbusStateReconfiguring = 7,
    XenbusStateReconfigured = 8,
};
