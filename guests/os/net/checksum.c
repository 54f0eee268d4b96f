/* The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the data as
   big-endian 16-bit words, an odd last byte padded with zero. inet_sum keeps the sum unfolded so a
   header, a pseudo-header and a payload in different places can be summed in pieces (every piece but
   the last must have an even length). */
#include "net.h"

u32 inet_sum(const u8 *data, size_t len, u32 sum)
{
    /* 64 KiB of 0xFFFF words cannot overflow 32 bits from a folded start; fold as we go anyway so a
       caller may chain pieces without thinking about it. */
    while (len >= 2) {
        sum += (u32)(data[0] << 8 | data[1]);
        data += 2;
        len -= 2;
        if (sum & 0x80000000u) sum = (sum & 0xFFFF) + (sum >> 16);
    }
    if (len) sum += (u32)data[0] << 8;
    return sum;
}

u32 inet_pseudo_sum(u32 src, u32 dst, u8 proto, u16 len)
{
    return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + len;
}

u16 inet_checksum(const u8 *data, size_t len, u32 initial)
{
    u32 sum = inet_sum(data, len, initial);
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return (u16)~sum;
}
