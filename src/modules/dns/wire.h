/*
 * DNS messages on the wire (RFC 1035 §4): a bounded reader for untrusted
 * messages and a writer with name compression.
 *
 * Names are handled in uncompressed wire form (length-prefixed labels ending
 * with the root label), at most DNS_NAME_MAX bytes.  The reader follows
 * compression pointers only strictly backwards and a bounded number of
 * times (RFC 9267), refuses labels over 63 bytes, names over 255 bytes and
 * the reserved label types, and never reads past the message.
 */
#ifndef TAPIR_DNS_WIRE_H
#define TAPIR_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tapir/bytes.h>

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63
#define DNS_MAX_POINTERS 64 /* pointers followed while reading one name */
#define DNS_UDP_MIN 512     /* the size every client takes (RFC 1035) */
#define DNS_MSG_MAX 65535

/* Types, classes, rcodes, opcodes. */
enum {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_OPT = 41,
	DNS_T_IXFR = 251,
	DNS_T_AXFR = 252,
	DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1, DNS_C_CH = 3, DNS_C_ANY = 255 };
enum {
	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
	DNS_R_BADVERS = 16, /* extended: needs an OPT record */
};
#define DNS_OP_QUERY 0

/* Header flag bits (the 16-bit flags word). */
#define DNS_F_QR 0x8000u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_AD 0x0020u
#define DNS_F_CD 0x0010u
#define DNS_OPCODE(f) (((f) >> 11) & 0xfu)
#define DNS_RCODE(f) ((f)&0xfu)

#define DNS_EDNS_DO 0x8000u

struct dns_hdr {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* ---- Reading ------------------------------------------------------------ */

/* A message being read: the whole of it (compression pointers count from
 * its start) and a cursor over what is left (<tapir/bytes.h>).  A read
 * that does not fit fails the cursor: every later read fails too. */
struct dns_reader {
	const uint8_t *msg;
	size_t len;
	struct tapir_cur cur;
};

void dns_reader_init(struct dns_reader *r, const uint8_t *msg, size_t len);
/* Offset of the next byte to read (len once a read failed). */
size_t dns_reader_pos(const struct dns_reader *r);
/* The header; -1 when the message is shorter. */
int dns_read_hdr(struct dns_reader *r, struct dns_hdr *h);
int dns_read_u8(struct dns_reader *r, uint8_t *v);
int dns_read_u16(struct dns_reader *r, uint16_t *v);
int dns_read_u32(struct dns_reader *r, uint32_t *v);
int dns_skip(struct dns_reader *r, size_t n);
/* A name at r->pos, uncompressed into out (DNS_NAME_MAX bytes), its length
 * in *outlen; r->pos moves past the name as it appears at r->pos (the first
 * pointer ends it).  -1 on any malformed shape. */
int dns_read_name(struct dns_reader *r, uint8_t *out, size_t *outlen);

/* ---- Names ------------------------------------------------------------- */

/* Length of a well-formed uncompressed wire name (trusted input). */
size_t dns_name_len(const uint8_t *name);
void dns_name_lower(uint8_t *name);
bool dns_name_eq(const uint8_t *a, const uint8_t *b); /* case-insensitive */
/* Number of labels, root excluded. */
unsigned dns_name_labels(const uint8_t *name);
/* The suffix of name that is `drop` labels shorter. */
const uint8_t *dns_name_skip(const uint8_t *name, unsigned drop);
/* Is name equal to or below zone (case-insensitive)? */
bool dns_name_under(const uint8_t *name, const uint8_t *zone);
/* Presentation form into buf ("www.lab.test."); bytes written or -1. */
int dns_name_to_text(const uint8_t *name, char *buf, size_t size);
/* Hash of the name, case-insensitive. */
uint32_t dns_name_hash(const uint8_t *name);

/* ---- Writing ----------------------------------------------------------- */

#define DNS_COMP_MAX 64 /* names remembered for compression */

struct dns_writer {
	uint8_t *buf;
	size_t cap;   /* bytes available in buf */
	size_t limit; /* writes past this fail (truncation point) */
	size_t len;
	unsigned ncomp;
	uint16_t comp[DNS_COMP_MAX]; /* offsets of names already written */
};

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap,
		     size_t limit);
int dns_put_u8(struct dns_writer *w, uint8_t v);
int dns_put_u16(struct dns_writer *w, uint16_t v);
int dns_put_u32(struct dns_writer *w, uint32_t v);
int dns_put_bytes(struct dns_writer *w, const void *p, size_t n);
void dns_put_u16_at(struct dns_writer *w, size_t off, uint16_t v);
/* Write name, compressed against names written before when compress;
 * remembers its suffixes for later names. */
int dns_put_name(struct dns_writer *w, const uint8_t *name, bool compress);
int dns_put_hdr(struct dns_writer *w, const struct dns_hdr *h);

/* A place to come back to when a record does not fit. */
struct dns_mark {
	size_t len;
	unsigned ncomp;
};
struct dns_mark dns_writer_mark(const struct dns_writer *w);
void dns_writer_reset(struct dns_writer *w, struct dns_mark m);

#endif
