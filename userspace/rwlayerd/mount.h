/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The union rwlayerd keeps rules on: taken over when it is mounted
 * already, made otherwise (rwlayerd(8), STARTUP).
 */
#ifndef RWLD_MOUNT_H
#define RWLD_MOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"
#include "tab.h"

struct rwld_mount {
	uint32_t id;			/* the kernel's MOUNT_ID */
	char *path;			/* where it is, --root included */
	bool created;			/* by this process */
	char *upper_base;		/* /run/rwlayer/<target>, if created */
};

/*
 * Find the rwlayer mount at exactly @path (the mountinfo line with fstype
 * rwlayer, matched to the kernel's GET_MOUNT by st_dev).  Returns 0 and
 * @m->id, -ENOENT when @path is no rwlayer mount, or another -errno
 * (logged).
 */
int rwld_mount_find(struct rwl_nl *nl, const char *path, struct rwld_mount *m);

/*
 * Make the union at @path (= @root + tab's @mount): the upper as @tab
 * says under /run/rwlayer/<escaped target>/, then rwlayer over @path with
 * the lowers @root + each @lower, then @path itself, and rule=none.
 * Returns 0 or -errno; every step that fails is logged, with the kernel's
 * fs_context messages, and undone.
 */
int rwld_mount_create(struct rwl_nl *nl, const struct rwl_tab_mount *tab,
		      const char *root, const char *path, struct rwld_mount *m);

/* Undo rwld_mount_create (after a failed start). */
void rwld_mount_destroy(struct rwld_mount *m);

void rwld_mount_free(struct rwld_mount *m);

/* @path as systemd-escape --path writes it: "/" "-", "/var/lib" "var-lib". */
char *rwld_mount_escape(const char *path);

#endif /* RWLD_MOUNT_H */
