/* wire.c - framed "name=value" messages between the daemon and workers. */

/*
 * A frame is a 32-bit length in host order followed by that many bytes of
 * fields, each "name=value" and a NUL. Names hold no '='; values may hold
 * any byte but NUL, which no key, path or parameter may contain anyway.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "objtrigger.h"

#define WIRE_MAX (64U << 20)

void
wire_init(struct wire_msg *m)
{
	memset(m, 0, sizeof *m);
}

void
wire_clear(struct wire_msg *m)
{
	free(m->buf);
	free(m->fields);
	wire_init(m);
}

void
wire_add(struct wire_msg *m, const char *name, const char *fmt, ...)
{
	size_t nlen = strlen(name), vlen;
	char *value;
	va_list ap;

	va_start(ap, fmt);
	vlen = (size_t)xvasprintf(&value, fmt, ap);
	va_end(ap);
	if (m->len + nlen + vlen + 2 > m->cap) {
		m->cap = (m->len + nlen + vlen + 2) * 2;
		m->buf = xreallocarray(m->buf, m->cap, 1);
	}
	memcpy(m->buf + m->len, name, nlen);
	m->buf[m->len + nlen] = '=';
	memcpy(m->buf + m->len + nlen + 1, value, vlen + 1);
	m->len += nlen + vlen + 2;
	free(value);
}

/* Adds every field of src (built with wire_add) after those of m. */
void
wire_append(struct wire_msg *m, const struct wire_msg *src)
{
	if (src == NULL || src->len == 0)
		return;
	if (m->len + src->len > m->cap) {
		m->cap = (m->len + src->len) * 2;
		m->buf = xreallocarray(m->buf, m->cap, 1);
	}
	memcpy(m->buf + m->len, src->buf, src->len);
	m->len += src->len;
}

static int
wire_io(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = writing ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
wire_send(int fd, const struct wire_msg *m)
{
	uint32_t len = (uint32_t)m->len;
	struct iovec iov[2] = { { &len, sizeof len }, { m->buf, m->len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	/* One call, the usual case; what a full socket left, piece by piece. */
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof len &&
	    wire_io(fd, (char *)&len + n, sizeof len - (size_t)n, 1) != 0)
		return -1;
	n = (size_t)n < sizeof len ? 0 : n - (ssize_t)sizeof len;
	return wire_io(fd, m->buf + n, m->len - (size_t)n, 1);
}

/* Splits the received bytes into fields; -1 if they are not a message. */
static int
wire_parse(struct wire_msg *m)
{
	char *p = m->buf, *end = m->buf + m->len, *eq, *nul;

	while (p < end) {
		nul = memchr(p, '\0', (size_t)(end - p));
		eq = memchr(p, '=', (size_t)(end - p));
		if (nul == NULL || eq == NULL || eq > nul)
			return -1;
		*eq = '\0';
		m->fields =
		    xreallocarray(m->fields, m->nfields + 1, sizeof *m->fields);
		m->fields[m->nfields].name = p;
		m->fields[m->nfields++].value = eq + 1;
		p = nul + 1;
	}
	return 0;
}

int
wire_recv(int fd, struct wire_msg *m)
{
	uint32_t len;

	wire_clear(m);
	if (wire_io(fd, &len, sizeof len, 0) != 0)
		return -1;
	if (len > WIRE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	m->buf = xmalloc(len);
	m->len = m->cap = len;
	if (wire_io(fd, m->buf, len, 0) != 0)
		return -1;
	if (wire_parse(m) != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

const char *
wire_get(const struct wire_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nfields; i++) {
		if (strcmp(m->fields[i].name, name) == 0)
			return m->fields[i].value;
	}
	return NULL;
}
