/*
 * pcapng blocks (the PCAP Next Generation capture file format, as read by
 * Wireshark and tcpdump): a section header, one interface description and
 * enhanced packet blocks, written in the host's byte order (the section
 * header's byte-order magic tells a reader which).
 *
 * Every function writes one whole block into buf and returns its length,
 * or 0 when it does not fit in cap bytes (nothing useful is left then).
 */
#ifndef TAPIR_PCAPNG_H
#define TAPIR_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define PCAPNG_BT_SHB 0x0A0D0D0Au
#define PCAPNG_BT_IDB 0x00000001u
#define PCAPNG_BT_EPB 0x00000006u
#define PCAPNG_BOM 0x1A2B3C4Du
#define PCAPNG_LINKTYPE_ETHERNET 1
/* Option codes. */
#define PCAPNG_OPT_END 0
#define PCAPNG_OPT_COMMENT 1
#define PCAPNG_OPT_SHB_USERAPPL 4
#define PCAPNG_OPT_IF_NAME 2
#define PCAPNG_OPT_EPB_FLAGS 2
/* The direction in the low two bits of epb_flags. */
#define PCAPNG_DIR_IN 1u
#define PCAPNG_DIR_OUT 2u
/* Longest option text written; longer text is cut. */
#define PCAPNG_TEXT_MAX 256

/* The section header, with the writing application's name (NULL: none)
 * and an unknown section length. */
size_t pcapng_shb(uint8_t *buf, size_t cap, const char *appl);
/* The interface description: link type, snap length (0: none), the
 * interface's name (NULL: none); timestamps in microseconds. */
size_t pcapng_idb(uint8_t *buf, size_t cap, uint16_t linktype,
		  uint32_t snaplen, const char *ifname);
/* The length of an enhanced packet block of caplen bytes with a flags
 * word and, unless NULL, a comment. */
size_t pcapng_epb_len(size_t caplen, const char *comment);
/* An enhanced packet block on interface 0: ts_us microseconds since the
 * epoch, caplen bytes of data out of a frame of origlen, the direction
 * (PCAPNG_DIR_*) in its flags word, and a comment unless NULL. */
size_t pcapng_epb(uint8_t *buf, size_t cap, uint64_t ts_us,
		  const uint8_t *data, size_t caplen, size_t origlen,
		  unsigned dir, const char *comment);

#endif
