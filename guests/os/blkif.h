/* io/blkif.h and the io/ring.h page layout for it (spec §1, §8), as shared/Abi/Io/Blkif*.cs pins them.
   The request slot is the 64-bit layout (u64 fields 8-aligned), which RV32's ABI gives as well, so
   both widths speak the same ring. */
#pragma once
#include "types.h"
#include "xen.h"

#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_WRITE_BARRIER 2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_DISCARD 5
#define BLKIF_OP_INDIRECT 6
#define BLKIF_RSP_EOPNOTSUPP (-2)
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8
#define BLKIF_SEGS_PER_INDIRECT_FRAME (PAGE_SIZE / sizeof(struct blkif_request_segment))
#define VDISK_CDROM 1
#define VDISK_REMOVABLE 2
#define VDISK_READONLY 4

struct blkif_request_segment {
    grant_ref_t gref;
    u8 first_sect, last_sect; /* 512-byte sectors within the page, 0..7 */
    u16 _pad;
};
struct blkif_request {
    u8 operation;
    u8 nr_segments;
    u16 handle;
    u32 _pad;
    u64 id;
    u64 sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
struct blkif_request_indirect {
    u8 operation;             /* BLKIF_OP_INDIRECT */
    u8 indirect_op;           /* READ or WRITE */
    u16 nr_segments;
    u32 _pad;
    u64 id;
    u64 sector_number;
    u16 handle;
    u16 _pad2;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};
struct blkif_response {
    u64 id;
    u8 operation;
    u8 _pad;
    s16 status;
    u32 _pad2;
};
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segment");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(__builtin_offsetof(struct blkif_request, id) == 8, "blkif_request");
_Static_assert(__builtin_offsetof(struct blkif_request, sector_number) == 16, "blkif_request");
_Static_assert(__builtin_offsetof(struct blkif_request, seg) == 24, "blkif_request");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, handle) == 24, "blkif_request_indirect");
_Static_assert(__builtin_offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "blkif_request_indirect");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(__builtin_offsetof(struct blkif_response, status) == 10, "blkif_response");

union blkif_sring_entry {
    struct blkif_request req;
    struct blkif_request_indirect ind;
    struct blkif_response rsp;
};
/* io/ring.h: four indices, 48 bytes of padding, then the slots; (4096 - 64) / 112 rounded down to a
   power of two = 32 slots. */
#define BLK_RING_SIZE 32
struct blkif_sring {
    u32 req_prod, req_event;
    u32 rsp_prod, rsp_event;
    u8 _pad[48];
    union blkif_sring_entry ring[BLK_RING_SIZE];
};
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif slot");
_Static_assert(__builtin_offsetof(struct blkif_sring, ring) == 64, "blkif sring");
_Static_assert(sizeof(struct blkif_sring) <= PAGE_SIZE, "blkif sring");
