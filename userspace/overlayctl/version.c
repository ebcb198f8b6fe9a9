// SPDX-License-Identifier: GPL-2.0
/*
 * overlayctl version: this tool's version, the module's and its features.
 */
#include <stdio.h>

#include "ctl.h"

static const struct {
	uint64_t bit;
	const char *name;
} ctl_features[] = {
	{ RWLAYER_FEATURE_RUNTIME_RULES, "runtime-rules" },
	{ RWLAYER_FEATURE_RESET, "reset" },
	{ RWLAYER_FEATURE_THRESHOLDS, "thresholds" },
	{ RWLAYER_FEATURE_EVENTS, "events" },
	{ RWLAYER_FEATURE_EMPTY_DIR_OWNER, "empty-dir-owner" },
};

#define CTL_NUM_FEATURES (sizeof(ctl_features) / sizeof(ctl_features[0]))

/* Feature bits this overlayctl has no name for. */
static uint64_t ctl_unknown_features(uint64_t features)
{
	size_t i;

	for (i = 0; i < CTL_NUM_FEATURES; i++)
		features &= ~ctl_features[i].bit;
	return features;
}

static void ctl_version_json(const struct rwl_nl_version *v)
{
	struct rwl_json j;
	size_t i;

	rwl_json_init(&j, stdout, ctl_opts.pretty);
	rwl_json_obj_begin(&j);
	rwl_json_kv_str(&j, "overlayctl", RWL_VERSION);
	rwl_json_kv_str(&j, "module", v->version);
	rwl_json_kv_u64(&j, "features", v->features);
	rwl_json_key(&j, "feature_names");
	rwl_json_arr_begin(&j);
	for (i = 0; i < CTL_NUM_FEATURES; i++)
		if (v->features & ctl_features[i].bit)
			rwl_json_str(&j, ctl_features[i].name);
	rwl_json_arr_end(&j);
	rwl_json_kv_u64(&j, "max_rules", v->max_rules);
	rwl_json_obj_end(&j);
	rwl_json_finish(&j);
}

static void ctl_version_text(const struct rwl_nl_version *v)
{
	uint64_t unknown = ctl_unknown_features(v->features);
	size_t i;

	printf("overlayctl %s\n", RWL_VERSION);
	printf("rwlayer module %s\n", v->version);
	printf("features:");
	for (i = 0; i < CTL_NUM_FEATURES; i++)
		if (v->features & ctl_features[i].bit)
			printf(" %s", ctl_features[i].name);
	if (unknown)
		printf(" 0x%llx", (unsigned long long)unknown);
	printf("\nmax rules per mount: %u\n", v->max_rules);
}

int ctl_cmd_version(int argc, char **argv)
{
	struct rwl_nl_version v;
	struct rwl_nl *nl;
	int i, err;

	for (i = 1; i < argc; i++) {
		if (!ctl_global_opt(argv[i])) {
			ctl_usage_of(argv[0]);
			return CTL_EXIT_ERROR;
		}
	}
	if (ctl_nl_open(&nl)) {
		if (!ctl_opts.json)
			printf("overlayctl %s\n", RWL_VERSION);
		return CTL_EXIT_ERROR;
	}
	err = rwl_nl_get_version(nl, &v);
	if (err) {
		ctl_nl_err(nl, err, "version");
	} else {
		if (ctl_opts.json)
			ctl_version_json(&v);
		else
			ctl_version_text(&v);
		rwl_nl_version_free(&v);
	}
	rwl_nl_close(nl);
	return err ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}
