/* pcapng blocks (see pcapng.h). */
#include "daemon/pcapng.h"

#include <string.h>

#define PAD4(n) (((n) + 3u) & ~(size_t)3u)

struct wbuf {
	uint8_t *p;
	size_t len;
};

static void put32(struct wbuf *w, uint32_t v)
{
	memcpy(w->p + w->len, &v, 4);
	w->len += 4;
}

static void put16(struct wbuf *w, uint16_t v)
{
	memcpy(w->p + w->len, &v, 2);
	w->len += 2;
}

static void put_bytes(struct wbuf *w, const void *data, size_t len)
{
	if (len)
		memcpy(w->p + w->len, data, len);
	memset(w->p + w->len + len, 0, PAD4(len) - len);
	w->len += PAD4(len);
}

static size_t text_len(const char *s)
{
	return s ? strnlen(s, PCAPNG_TEXT_MAX) : 0;
}

/* An option's room: code, length, value padded; nothing for no text. */
static size_t opt_text_len(const char *s)
{
	size_t n = text_len(s);

	return n ? 4 + PAD4(n) : 0;
}

static void put_opt_text(struct wbuf *w, uint16_t code, const char *s)
{
	size_t n = text_len(s);

	if (!n)
		return;
	put16(w, code);
	put16(w, (uint16_t)n);
	put_bytes(w, s, n);
}

/* The end of options and the block's trailing length. */
static size_t finish(struct wbuf *w, size_t total)
{
	put16(w, PCAPNG_OPT_END);
	put16(w, 0);
	put32(w, (uint32_t)total);
	return w->len;
}

size_t pcapng_shb(uint8_t *buf, size_t cap, const char *appl)
{
	size_t total = 24 + opt_text_len(appl) + 4 + 4;
	struct wbuf w = {buf, 0};
	uint64_t section_len = UINT64_MAX; /* unknown */

	if (total > cap)
		return 0;
	put32(&w, PCAPNG_BT_SHB);
	put32(&w, (uint32_t)total);
	put32(&w, PCAPNG_BOM);
	put16(&w, 1); /* version 1.0 */
	put16(&w, 0);
	memcpy(w.p + w.len, &section_len, 8);
	w.len += 8;
	put_opt_text(&w, PCAPNG_OPT_SHB_USERAPPL, appl);
	return finish(&w, total);
}

size_t pcapng_idb(uint8_t *buf, size_t cap, uint16_t linktype,
		  uint32_t snaplen, const char *ifname)
{
	size_t total = 16 + opt_text_len(ifname) + 4 + 4;
	struct wbuf w = {buf, 0};

	if (total > cap)
		return 0;
	put32(&w, PCAPNG_BT_IDB);
	put32(&w, (uint32_t)total);
	put16(&w, linktype);
	put16(&w, 0);
	put32(&w, snaplen);
	put_opt_text(&w, PCAPNG_OPT_IF_NAME, ifname);
	return finish(&w, total);
}

size_t pcapng_epb_len(size_t caplen, const char *comment)
{
	/* header 28, data, epb_flags 8, comment, end 4, trailing length 4 */
	return 28 + PAD4(caplen) + 8 + opt_text_len(comment) + 4 + 4;
}

size_t pcapng_epb(uint8_t *buf, size_t cap, uint64_t ts_us,
		  const uint8_t *data, size_t caplen, size_t origlen,
		  unsigned dir, const char *comment)
{
	size_t total = pcapng_epb_len(caplen, comment);
	struct wbuf w = {buf, 0};

	if (total > cap || caplen > origlen || origlen > UINT32_MAX)
		return 0;
	put32(&w, PCAPNG_BT_EPB);
	put32(&w, (uint32_t)total);
	put32(&w, 0); /* interface 0 */
	put32(&w, (uint32_t)(ts_us >> 32));
	put32(&w, (uint32_t)ts_us);
	put32(&w, (uint32_t)caplen);
	put32(&w, (uint32_t)origlen);
	put_bytes(&w, data, caplen);
	put16(&w, PCAPNG_OPT_EPB_FLAGS);
	put16(&w, 4);
	put32(&w, dir & 3u);
	put_opt_text(&w, PCAPNG_OPT_COMMENT, comment);
	return finish(&w, total);
}
