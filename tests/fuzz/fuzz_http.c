/*
 * libFuzzer harness for the http module's request parsing
 * (src/modules/http/http_parse.c, http_path.c, http_util.c).
 *
 * Input: byte 0 picks the limits (small ones reach every limit quickly),
 * byte 1 seeds the split points; the rest is a byte stream from a client.
 * It is fed the way the module feeds it: in pieces into a head buffer of
 * the module's size, parsing after each piece, consuming complete heads
 * and their Content-Length bodies, so pipelined and split requests are
 * both exercised.  Each parsed request's target is normalised and its
 * Range, conditionals and dates evaluated.  Invariants checked: a head's
 * length is within the buffer, the strings point into it, a normalised
 * path starts with '/' and has no empty, "." or ".." segment, and a range
 * lies within the representation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant violated: %s (%s:%d)\n",    \
				#cond, __FILE__, __LINE__);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static void check_str(struct http_str s, const char *buf, size_t len)
{
	if (!s.p)
		return;
	CHECK(s.p >= buf && s.p + s.len <= buf + len);
}

static void check_path(const char *p)
{
	size_t n = strlen(p);

	CHECK(p[0] == '/');
	CHECK(!strstr(p, "//"));
	CHECK(!strstr(p, "/./"));
	CHECK(!strstr(p, "/../"));
	CHECK(!(n >= 2 && !strcmp(p + n - 2, "/.")));
	CHECK(!(n >= 3 && !strcmp(p + n - 3, "/..")));
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)p[i] >= 0x20 && p[i] != 0x7f);
}

static void use_request(const struct http_request *r, const char *buf,
			size_t len)
{
	char path[512];
	uint64_t size = r->content_length % 100000, first, last;
	int64_t t;
	char date[HTTP_DATE_LEN];

	check_str(r->target, buf, len);
	check_str(r->method_name, buf, len);
	check_str(r->host, buf, len);
	check_str(r->range, buf, len);
	check_str(r->if_none_match, buf, len);
	check_str(r->if_modified_since, buf, len);
	check_str(r->if_range, buf, len);
	CHECK(r->minor <= 1);
	/* path holds a string only when the target normalised. */
	if (http_path_normalise(r->target.p, r->target.len, path,
				sizeof(path)) == 0) {
		check_path(path);
		(void)http_mime_lookup(NULL, 0, path);
	}
	if (r->range.p && http_range_eval(r->range.p, r->range.len, size,
					  &first, &last) == HTTP_RANGE_PART)
		CHECK(first <= last && last < size);
	(void)http_conditional(r, "\"e\"", 784111777);
	(void)http_if_range_ok(r, "\"e\"", 784111777);
	if (r->if_modified_since.p &&
	    http_date_parse(r->if_modified_since.p, r->if_modified_since.len,
			    &t) == 0) {
		http_date_format(t, date);
		CHECK(strlen(date) == HTTP_DATE_LEN - 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	char *buf;
	size_t cap, have = 0, pos;
	uint64_t body_left = 0;
	unsigned seed;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		lim = (struct http_limits){64, 256, 4, 100};
	} else {
		lim = (struct http_limits){4096, 8192, 64, 1048576};
	}
	seed = data[1];
	data += 2;
	size -= 2;
	cap = lim.max_line + lim.max_header_bytes + 4;
	buf = malloc(cap);
	if (!buf)
		return 0;
	pos = 0;
	while (pos < size) {
		/* A piece of 1..64 bytes, or everything that fits. */
		size_t piece;

		seed = seed * 1103515245u + 12345u;
		piece =
		    (seed >> 16) % 4 == 0 ? size - pos : 1 + (seed >> 16) % 64;
		if (piece > size - pos)
			piece = size - pos;
		/* The body of the last request is dropped as it comes. */
		if (body_left) {
			size_t n =
			    piece < body_left ? piece : (size_t)body_left;

			body_left -= n;
			pos += n;
			continue;
		}
		if (piece > cap - have)
			piece = cap - have;
		memcpy(buf + have, data + pos, piece);
		have += piece;
		pos += piece;
		for (;;) {
			struct http_request r;
			long n = http_parse_request(&lim, buf, have, &r);

			if (n < 0) {
				CHECK(n == -400 || n == -413 || n == -414 ||
				      n == -431 || n == -501 || n == -505);
				goto done; /* the module closes here */
			}
			if (n == 0) {
				/* Waiting is only allowed with room left. */
				CHECK(have < cap);
				break;
			}
			CHECK((size_t)n <= have);
			CHECK(r.head_len == (size_t)n);
			use_request(&r, buf, have);
			memmove(buf, buf + n, have - (size_t)n);
			have -= (size_t)n;
			if (r.has_cl) {
				uint64_t take = r.content_length < have
						    ? r.content_length
						    : have;

				CHECK(r.content_length <= lim.max_body);
				memmove(buf, buf + take, have - (size_t)take);
				have -= (size_t)take;
				body_left = r.content_length - take;
			}
			if (!r.keep_alive)
				goto done; /* the module lingers, then closes */
			if (!have || body_left)
				break;
		}
	}
done:
	free(buf);
	return 0;
}
