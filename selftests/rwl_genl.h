/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small generic netlink client for the selftests of the "rwlayer"
 * family (kmod/uapi/linux/rwlayer.h).
 *
 * The selftests are static programs and Debian's libmnl-dev ships no
 * libmnl.a, so the framing is done here, the way the kernel's own
 * net selftests do it.  Tests also need to send what no library would
 * build (a truncated attribute, a string without its NUL), which is why
 * every attribute goes through one function, rwl_msg_put_raw(), that
 * writes whatever header it is told to.
 *
 * Replies are parsed into one flat struct rwl_obj: the family has a single
 * attribute space, so the same struct holds a version, a mount, a rule or
 * an event, with a bit per attribute that was present and a note of any
 * attribute whose length does not match its type or that came twice.  The error of a request
 * comes back as a negative errno, with the extended ack (message, offset
 * of the offending attribute, missing attribute type) kept in struct
 * rwl_nl for the test to check.
 */
#ifndef RWL_GENL_H
#define RWL_GENL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rwlayer.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK		270
#endif

#define RWL_NL_BUF		65536
#define RWL_NL_MSG_MAX		16384	/* largest request a test builds */
#define RWL_NL_STR		512	/* longest string kept from a reply */
#define RWL_NL_MAX_LOWERS	4
#define RWL_NL_TIMEOUT_MS	5000

/* A request being built: one nlmsghdr + genlmsghdr + attributes. */
struct rwl_msg {
	union {
		struct nlmsghdr nlh;
		char buf[RWL_NL_MSG_MAX];
	};
};

/*
 * One socket of the family, and what the last request's error said.  A
 * socket that joined the events group is for events only: a request on
 * it would read (and drop) the events queued before its answer.
 */
struct rwl_nl {
	int fd;
	uint16_t family;		/* the family's id, 0 if unresolved */
	uint32_t version;		/* CTRL_ATTR_VERSION */
	uint32_t maxattr;		/* CTRL_ATTR_MAXATTR */
	uint32_t events_group;		/* multicast id of "events", or 0 */
	uint32_t seq;
	/*
	 * Send with write(2) semantics, no destination address: what a
	 * program does to a netlink fd it was handed as, say, its stdout.
	 */
	bool unaddressed;
	/* Extended ack of the last request; ext_* are empty without one. */
	char ext_msg[256];
	bool has_offs;
	uint32_t ext_offs;		/* NLMSGERR_ATTR_OFFS */
	bool has_miss;
	uint32_t ext_miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	/* Multicast messages received but not yet handed out. */
	size_t pending_pos, pending_len;
	char buf[RWL_NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* Everything a reply or event of the family may carry. */
struct rwl_obj {
	uint64_t present;		/* bit n: attribute n was there */
	int bad_attr;			/* an attribute of a wrong size, or 0 */
	int dup_attr;			/* an attribute sent twice, or 0 */
	uint8_t cmd;
	char version[64];
	uint64_t features;
	uint32_t max_rules;
	uint32_t mount_id;
	uint32_t dev_major, dev_minor;
	int num_lowers;
	char lowers[RWL_NL_MAX_LOWERS][RWL_NL_STR];
	char upper[RWL_NL_STR], work[RWL_NL_STR], options[2048];
	uint32_t num_rules;
	char rule_path[RWL_NL_STR];
	uint8_t kind, warn;
	uint64_t max_bytes, max_inodes;
	uint16_t mode;
	uint32_t uid, gid;
	uint64_t bytes, inodes, copy_ups, copy_up_bytes, whiteouts, errors;
	uint32_t open_files;
	uint32_t event;
	uint8_t event_percent, event_limit;
	uint32_t err_no;
	char path[RWL_NL_STR];
};

#define RWL_HAS(obj, attr)	(!!((obj)->present & (1ULL << (attr))))

static inline struct genlmsghdr *rwl_msg_genl(struct rwl_msg *m)
{
	return (struct genlmsghdr *)NLMSG_DATA(&m->nlh);
}

static inline void rwl_msg_init(struct rwl_msg *m, uint16_t type,
				uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct genlmsghdr *g;

	memset(&m->nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	m->nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	g = rwl_msg_genl(m);
	g->cmd = cmd;
	g->version = version;
}

/*
 * Append an attribute whose header says @nla_len and @type, followed by
 * the @len bytes of @data and padding.  @nla_len is NLA_HDRLEN + @len for
 * a well-formed attribute; the malformed-message tests pass other values.
 * Returns the attribute's offset in the message (what the kernel's
 * NLMSGERR_ATTR_OFFS names), or -1 when the buffer is full.
 */
static inline int rwl_msg_put_raw(struct rwl_msg *m, uint16_t nla_len,
				  uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(m->nlh.nlmsg_len);
	struct nlattr nla = { .nla_len = nla_len, .nla_type = type };

	if (off + NLA_ALIGN(NLA_HDRLEN + len) > sizeof(m->buf))
		return -1;
	memcpy(m->buf + off, &nla, sizeof(nla));
	memcpy(m->buf + off + NLA_HDRLEN, data, len);
	memset(m->buf + off + NLA_HDRLEN + len, 0,
	       NLA_ALIGN(NLA_HDRLEN + len) - (NLA_HDRLEN + len));
	m->nlh.nlmsg_len = off + NLA_ALIGN(NLA_HDRLEN + len);
	return off;
}

static inline int rwl_msg_put(struct rwl_msg *m, uint16_t type,
			      const void *data, size_t len)
{
	return rwl_msg_put_raw(m, NLA_HDRLEN + len, type, data, len);
}

static inline int rwl_msg_put_u8(struct rwl_msg *m, uint16_t type, uint8_t v)
{
	return rwl_msg_put(m, type, &v, sizeof(v));
}

static inline int rwl_msg_put_u16(struct rwl_msg *m, uint16_t type, uint16_t v)
{
	return rwl_msg_put(m, type, &v, sizeof(v));
}

static inline int rwl_msg_put_u32(struct rwl_msg *m, uint16_t type, uint32_t v)
{
	return rwl_msg_put(m, type, &v, sizeof(v));
}

static inline int rwl_msg_put_u64(struct rwl_msg *m, uint16_t type, uint64_t v)
{
	return rwl_msg_put(m, type, &v, sizeof(v));
}

static inline int rwl_msg_put_str(struct rwl_msg *m, uint16_t type,
				  const char *s)
{
	return rwl_msg_put(m, type, s, strlen(s) + 1);
}

static inline int rwl_msg_put_flag(struct rwl_msg *m, uint16_t type)
{
	return rwl_msg_put(m, type, NULL, 0);
}

/* Walk the attributes in [@p, @p + @len); stops at a malformed one. */
#define rwl_for_each_attr(a, p, len, rem)				\
	for ((a) = (const struct nlattr *)(p), (rem) = (int)(len);	\
	     (rem) >= NLA_HDRLEN && (a)->nla_len >= NLA_HDRLEN &&	\
	     (a)->nla_len <= (rem);					\
	     (rem) -= NLA_ALIGN((a)->nla_len),				\
	     (a) = (const struct nlattr *)((const char *)(a) +		\
					   NLA_ALIGN((a)->nla_len)))

static inline const void *rwl_attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline int rwl_attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/*
 * Copy a string attribute: exactly one NUL, at its end.  False if it is
 * not one, or longer than @size (a test keeps no truncated strings).
 */
static inline bool rwl_attr_str(const struct nlattr *a, char *out, size_t size)
{
	const char *s = rwl_attr_data(a);
	int len = rwl_attr_len(a);

	if (len < 1 || (size_t)len > size || s[len - 1] != '\0' ||
	    memchr(s, '\0', len) != s + len - 1)
		return false;
	memcpy(out, s, len);
	return true;
}

/* Copy a fixed-size attribute of @size bytes; false on another size. */
static inline bool rwl_attr_fixed(const struct nlattr *a, void *out,
				  size_t size)
{
	if ((size_t)rwl_attr_len(a) != size)
		return false;
	memcpy(out, rwl_attr_data(a), size);
	return true;
}

static inline bool rwl_obj_lowers(struct rwl_obj *o, const struct nlattr *nest)
{
	const struct nlattr *a;
	int rem;

	rwl_for_each_attr(a, rwl_attr_data(nest), rwl_attr_len(nest), rem) {
		if ((a->nla_type & NLA_TYPE_MASK) != RWLAYER_A_LOWER ||
		    o->num_lowers == RWL_NL_MAX_LOWERS ||
		    !rwl_attr_str(a, o->lowers[o->num_lowers], RWL_NL_STR))
			return false;
		o->num_lowers++;
	}
	return rem == 0;
}

/* One attribute into @o; false if its size does not fit its type. */
static inline bool rwl_obj_attr(struct rwl_obj *o, const struct nlattr *a)
{
	switch (a->nla_type & NLA_TYPE_MASK) {
	case RWLAYER_A_PAD:
		return true;
	case RWLAYER_A_VERSION:
		return rwl_attr_str(a, o->version, sizeof(o->version));
	case RWLAYER_A_FEATURES:
		return rwl_attr_fixed(a, &o->features, 8);
	case RWLAYER_A_MAX_RULES:
		return rwl_attr_fixed(a, &o->max_rules, 4);
	case RWLAYER_A_MOUNT_ID:
		return rwl_attr_fixed(a, &o->mount_id, 4);
	case RWLAYER_A_DEV_MAJOR:
		return rwl_attr_fixed(a, &o->dev_major, 4);
	case RWLAYER_A_DEV_MINOR:
		return rwl_attr_fixed(a, &o->dev_minor, 4);
	case RWLAYER_A_LOWERS:
		return rwl_obj_lowers(o, a);
	case RWLAYER_A_UPPER:
		return rwl_attr_str(a, o->upper, sizeof(o->upper));
	case RWLAYER_A_WORK:
		return rwl_attr_str(a, o->work, sizeof(o->work));
	case RWLAYER_A_OPTIONS:
		return rwl_attr_str(a, o->options, sizeof(o->options));
	case RWLAYER_A_READ_ONLY:
	case RWLAYER_A_FORCE:
		return rwl_attr_len(a) == 0;
	case RWLAYER_A_NUM_RULES:
		return rwl_attr_fixed(a, &o->num_rules, 4);
	case RWLAYER_A_RULE_PATH:
		return rwl_attr_str(a, o->rule_path, sizeof(o->rule_path));
	case RWLAYER_A_RULE_KIND:
		return rwl_attr_fixed(a, &o->kind, 1);
	case RWLAYER_A_RULE_MAX_BYTES:
		return rwl_attr_fixed(a, &o->max_bytes, 8);
	case RWLAYER_A_RULE_MAX_INODES:
		return rwl_attr_fixed(a, &o->max_inodes, 8);
	case RWLAYER_A_RULE_WARN:
		return rwl_attr_fixed(a, &o->warn, 1);
	case RWLAYER_A_RULE_MODE:
		return rwl_attr_fixed(a, &o->mode, 2);
	case RWLAYER_A_RULE_UID:
		return rwl_attr_fixed(a, &o->uid, 4);
	case RWLAYER_A_RULE_GID:
		return rwl_attr_fixed(a, &o->gid, 4);
	case RWLAYER_A_RULE_BYTES:
		return rwl_attr_fixed(a, &o->bytes, 8);
	case RWLAYER_A_RULE_INODES:
		return rwl_attr_fixed(a, &o->inodes, 8);
	case RWLAYER_A_RULE_COPY_UPS:
		return rwl_attr_fixed(a, &o->copy_ups, 8);
	case RWLAYER_A_RULE_COPY_UP_BYTES:
		return rwl_attr_fixed(a, &o->copy_up_bytes, 8);
	case RWLAYER_A_RULE_WHITEOUTS:
		return rwl_attr_fixed(a, &o->whiteouts, 8);
	case RWLAYER_A_RULE_ERRORS:
		return rwl_attr_fixed(a, &o->errors, 8);
	case RWLAYER_A_RULE_OPEN_FILES:
		return rwl_attr_fixed(a, &o->open_files, 4);
	case RWLAYER_A_EVENT:
		return rwl_attr_fixed(a, &o->event, 4);
	case RWLAYER_A_EVENT_PERCENT:
		return rwl_attr_fixed(a, &o->event_percent, 1);
	case RWLAYER_A_EVENT_LIMIT:
		return rwl_attr_fixed(a, &o->event_limit, 1);
	case RWLAYER_A_ERRNO:
		return rwl_attr_fixed(a, &o->err_no, 4);
	case RWLAYER_A_PATH:
		return rwl_attr_str(a, o->path, sizeof(o->path));
	}
	return false;	/* not in the uapi header */
}

/* A message of the family into @o; @o->bad_attr notes the first misfit. */
static inline void rwl_obj_parse(struct rwl_obj *o, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);
	const struct nlattr *a;
	int rem, type;

	memset(o, 0, sizeof(*o));
	o->cmd = g->cmd;
	rwl_for_each_attr(a, (const char *)g + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		type = a->nla_type & NLA_TYPE_MASK;
		if (!rwl_obj_attr(o, a) && !o->bad_attr)
			o->bad_attr = type ? type : -1;
		if (type == RWLAYER_A_PAD || type >= 64)
			continue;
		if (RWL_HAS(o, type) && !o->dup_attr)
			o->dup_attr = type;
		o->present |= 1ULL << type;
	}
	if (rem && !o->bad_attr)
		o->bad_attr = -1;
}

/* The TLVs of an NLMSG_ERROR or NLMSG_DONE into nl->ext_*. */
static inline void rwl_nl_parse_ext(struct rwl_nl *nl, const void *tlvs,
				    int len)
{
	const struct nlattr *a;
	int rem;

	rwl_for_each_attr(a, tlvs, len, rem) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			if (!rwl_attr_str(a, nl->ext_msg, sizeof(nl->ext_msg)))
				snprintf(nl->ext_msg, sizeof(nl->ext_msg),
					 "<malformed NLMSGERR_ATTR_MSG>");
			break;
		case NLMSGERR_ATTR_OFFS:
			nl->has_offs = rwl_attr_fixed(a, &nl->ext_offs, 4);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			nl->has_miss = rwl_attr_fixed(a, &nl->ext_miss_type, 4);
			break;
		}
	}
}

/*
 * The error an NLMSG_ERROR or NLMSG_DONE carries (0 or -errno), with its
 * extended ack parsed.  An NLMSG_ERROR echoes the request unless capped.
 */
static inline int rwl_nl_parse_status(struct rwl_nl *nl,
				      const struct nlmsghdr *nlh)
{
	const char *data = NLMSG_DATA(nlh);
	int payload = nlh->nlmsg_len - NLMSG_HDRLEN;
	const struct nlmsgerr *e;
	int err, skip;

	if (payload < (int)sizeof(int))
		return -EBADMSG;
	memcpy(&err, data, sizeof(err));
	if (nlh->nlmsg_type == NLMSG_DONE) {
		skip = NLMSG_ALIGN(sizeof(int));
	} else {
		if (payload < (int)sizeof(*e))
			return -EBADMSG;
		e = (const struct nlmsgerr *)data;
		skip = nlh->nlmsg_flags & NLM_F_CAPPED ? sizeof(*e) :
		       NLMSG_ALIGN(sizeof(int) + e->msg.nlmsg_len);
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && payload > skip)
		rwl_nl_parse_ext(nl, data + skip, payload - skip);
	return err;
}

static inline void rwl_nl_clear_ext(struct rwl_nl *nl)
{
	nl->ext_msg[0] = '\0';
	nl->has_offs = false;
	nl->has_miss = false;
	nl->ext_offs = 0;
	nl->ext_miss_type = 0;
}

/* Wait up to @timeout_ms for one datagram into nl->buf; its length. */
static inline ssize_t rwl_nl_recv(struct rwl_nl *nl, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	n = recv(nl->fd, nl->buf, sizeof(nl->buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return -errno;
	if ((size_t)n > sizeof(nl->buf))
		return -EMSGSIZE;
	return n;
}

/* Called for each answer to a request that is not its ack or error. */
typedef void (*rwl_nl_answer_fn)(const struct nlmsghdr *nlh, void *arg);

/*
 * Send @m and hand every answer to @fn until the ack, the error or the
 * end of a dump.  Returns how many answers came, or the -errno of the
 * request with its extended ack in nl->ext_*.
 */
static inline int rwl_nl_exchange(struct rwl_nl *nl, struct rwl_msg *m,
				  rwl_nl_answer_fn fn, void *arg)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	const struct nlmsghdr *nlh;
	int count = 0, len, err;
	ssize_t n;

	rwl_nl_clear_ext(nl);
	m->nlh.nlmsg_seq = ++nl->seq;
	if (nl->unaddressed)
		n = send(nl->fd, m->buf, m->nlh.nlmsg_len, 0);
	else
		n = sendto(nl->fd, m->buf, m->nlh.nlmsg_len, 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	if (n < 0)
		return -errno;
	for (;;) {
		n = rwl_nl_recv(nl, RWL_NL_TIMEOUT_MS);
		if (n < 0)
			return n;
		len = n;
		for (nlh = (const struct nlmsghdr *)nl->buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			/* Left over from an earlier request (a dump's ack). */
			if (nlh->nlmsg_seq != nl->seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE) {
				err = rwl_nl_parse_status(nl, nlh);
				return err ? err : count;
			}
			fn(nlh, arg);
			count++;
		}
	}
}

struct rwl_obj_sink {
	struct rwl_obj *objs;
	int max, count;
};

static inline void rwl_obj_collect(const struct nlmsghdr *nlh, void *arg)
{
	struct rwl_obj_sink *sink = arg;

	if (sink->objs && sink->count < sink->max)
		rwl_obj_parse(&sink->objs[sink->count], nlh);
	sink->count++;
}

/*
 * Send @m and collect the answers: up to @max objects into @objs (NULL
 * for none).  Returns how many came (more than @max are counted but not
 * kept), or the -errno of the request with its extended ack in nl->ext_*.
 */
static inline int rwl_nl_talk(struct rwl_nl *nl, struct rwl_msg *m,
			      struct rwl_obj *objs, int max)
{
	struct rwl_obj_sink sink = { .objs = objs, .max = max };

	return rwl_nl_exchange(nl, m, rwl_obj_collect, &sink);
}

/* One entry of CTRL_ATTR_MCAST_GROUPS: note the id if it is "events". */
static inline void rwl_nl_mcast_group(struct rwl_nl *nl, const struct nlattr *grp)
{
	const struct nlattr *a;
	char name[64] = "";
	uint32_t id = 0;
	int rem;

	rwl_for_each_attr(a, rwl_attr_data(grp), rwl_attr_len(grp), rem) {
		if (a->nla_type == CTRL_ATTR_MCAST_GRP_ID)
			rwl_attr_fixed(a, &id, 4);
		else if (a->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
			rwl_attr_str(a, name, sizeof(name));
	}
	if (!strcmp(name, RWLAYER_MCGRP_EVENTS))
		nl->events_group = id;
}

/* nlctrl's answer about a family into @arg (struct rwl_nl). */
static inline void rwl_nl_family_answer(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a, *grp;
	struct rwl_nl *nl = arg;
	int rem, grem;

	rwl_for_each_attr(a, (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		switch (a->nla_type & NLA_TYPE_MASK) {
		case CTRL_ATTR_FAMILY_ID:
			rwl_attr_fixed(a, &nl->family, 2);
			break;
		case CTRL_ATTR_VERSION:
			rwl_attr_fixed(a, &nl->version, 4);
			break;
		case CTRL_ATTR_MAXATTR:
			rwl_attr_fixed(a, &nl->maxattr, 4);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			rwl_for_each_attr(grp, rwl_attr_data(a), rwl_attr_len(a), grem)
				rwl_nl_mcast_group(nl, grp);
			break;
		}
	}
}

/*
 * Ask nlctrl for family @name: its id, version, maxattr and the id of
 * its "events" group.  Returns 0 or -errno (-ENOENT: no such family).
 */
static inline int rwl_nl_resolve(struct rwl_nl *nl, const char *name)
{
	struct rwl_msg m;
	int n;

	rwl_msg_init(&m, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, 1);
	rwl_msg_put_str(&m, CTRL_ATTR_FAMILY_NAME, name);
	n = rwl_nl_exchange(nl, &m, rwl_nl_family_answer, nl);
	if (n < 0)
		return n;
	return n == 1 && nl->family ? 0 : -EBADMSG;
}

/*
 * Open a generic netlink socket with extended acks (capped: an error does
 * not echo the whole request) and resolve the family @name in it.
 * Returns 0 or -errno; the socket stays open (nl->fd) even when the
 * family is missing, so that a test can still use it.
 */
static inline int rwl_nl_open_family(struct rwl_nl *nl, const char *name)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int one = 1, rcvbuf = 1 << 20;

	memset(nl, 0, offsetof(struct rwl_nl, buf));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(nl->fd, (struct sockaddr *)&local, sizeof(local)))
		return -errno;
	return rwl_nl_resolve(nl, name);
}

static inline int rwl_nl_open(struct rwl_nl *nl)
{
	return rwl_nl_open_family(nl, RWLAYER_GENL_NAME);
}

static inline void rwl_nl_close(struct rwl_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

/*
 * The id of the rwlayer mount whose device is @dev (the st_dev of its
 * directories), found as the tools find it: the GET_MOUNT dump entry
 * with that DEV_MAJOR:DEV_MINOR.  0, -ENOENT (no such mount) or -errno.
 */
static inline int rwl_nl_mount_id(struct rwl_nl *nl, dev_t dev, uint32_t *id)
{
	enum { max = 128 };	/* more than the mounts of any test */
	struct rwl_obj *objs = calloc(max, sizeof(*objs));
	struct rwl_msg m;
	int n, i, err = -ENOENT;

	if (!objs)
		return -ENOMEM;
	rwl_msg_init(&m, nl->family, NLM_F_DUMP, RWLAYER_CMD_GET_MOUNT,
		     RWLAYER_GENL_VERSION);
	n = rwl_nl_talk(nl, &m, objs, max);
	if (n < 0)
		err = n;
	for (i = 0; i < n && i < max; i++) {
		if (makedev(objs[i].dev_major, objs[i].dev_minor) == dev) {
			*id = objs[i].mount_id;
			err = 0;
		}
	}
	free(objs);
	return err;
}

/* Join the "events" multicast group; 0 or -errno (EPERM without privilege). */
static inline int rwl_nl_join_events(struct rwl_nl *nl)
{
	uint32_t group = nl->events_group;

	if (!group)
		return -ENOENT;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)))
		return -errno;
	return 0;
}

/*
 * The next multicast message of the family, waiting up to @timeout_ms.
 * Returns 0, -ETIMEDOUT when none came, or -errno (-ENOBUFS: the socket
 * overflowed and events were lost).
 */
static inline int rwl_nl_next_event(struct rwl_nl *nl, struct rwl_obj *o,
				    int timeout_ms)
{
	const struct nlmsghdr *nlh;
	ssize_t n;

	for (;;) {
		while (nl->pending_pos < nl->pending_len) {
			nlh = (const struct nlmsghdr *)(nl->buf + nl->pending_pos);
			if (!NLMSG_OK(nlh, (int)(nl->pending_len - nl->pending_pos)))
				break;
			nl->pending_pos += NLMSG_ALIGN(nlh->nlmsg_len);
			if (nlh->nlmsg_type != nl->family)
				continue;
			rwl_obj_parse(o, nlh);
			return 0;
		}
		nl->pending_pos = nl->pending_len = 0;
		n = rwl_nl_recv(nl, timeout_ms);
		if (n < 0)
			return n;
		nl->pending_len = n;
	}
}

#endif /* RWL_GENL_H */
