/* The configuration file: sites (grid zone, cloud region, PUE, WUE, embodied emissions of the
 * machine), the default site, and the live intensity services with their credentials, so that
 * `joulestream run --site lab` or a plain `joulestream run` on a configured machine needs no
 * options. Found at --config FILE, $JOULESTREAM_CONFIG, $XDG_CONFIG_HOME/joulestream/config or
 * ~/.config/joulestream/config. The format (INI-like, documented in docs/methodology.md):
 *
 *     # a comment (whole lines only: values may contain '#')
 *     [default]
 *     site = lab
 *     live = electricitymaps
 *     [site lab]
 *     zone = DE
 *     pue = 1.3
 *     [electricitymaps]
 *     token = "..."
 *
 * The parser is a pure function over (p, n); errors name the file and the line. */
#ifndef JOULESTREAM_CONFIG_H
#define JOULESTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "joulestream/common.h"

#define JST_CONFIG_SITES_MAX 32

struct jst_site_cfg {
	char name[64];
	char zone[32];          /* "" unset */
	char cloud[64];         /* "aws:eu-central-1", "" unset */
	double pue;             /* < 0 unset */
	double wue;             /* < 0 unset */
	double embodied_kg;     /* the machine's embodied kgCO2e for SCI, < 0 unset */
	double lifetime_years;  /* its expected lifetime, < 0 unset */
	/* for `joulestream sites rank` (docs/scheduling.md) */
	double capacity;        /* accelerators (or nodes) the site offers, < 0 unset */
	char accelerators[128]; /* "h100,a100": lower case, comma-separated, "" unset */
	char label[64];         /* its Kubernetes node label value, "" unset */
	char partition[64];     /* its SLURM partition, "" unset */
	int line;               /* where the section starts, for messages */
};

struct jst_config {
	char path[512];            /* the file read, "" when none */
	char default_site[64];
	char live[32];             /* "electricitymaps", "watttime", "off" or "" */
	struct jst_site_cfg sites[JST_CONFIG_SITES_MAX];
	size_t nsites;
	char em_token[256], em_url[256];
	char wt_user[128], wt_password[128], wt_url[256], wt_region[64];
	double connect_timeout_s;  /* < 0 unset (defaults in live.c) */
	double timeout_s;
	double cache_ttl_s;
};

/* Empties c (every number unset). */
JST_API void jst_config_init(struct jst_config *c);

/* Parses p[0..n) into c (initialised here). name is used in errors: "NAME: line N: ...".
 * Returns 0 or -EINVAL with err set; c is left empty on error (nothing half loaded). */
JST_API int jst_config_parse(const char *p, size_t n, const char *name, struct jst_config *c,
                             char *err, size_t errlen);

/* Reads path, or the default location when path is NULL. A missing default file is an empty
 * configuration (0); a missing explicit file is -ENOENT. */
JST_API int jst_config_load(const char *path, struct jst_config *c, char *err, size_t errlen);

/* The site called name, or NULL. */
JST_API const struct jst_site_cfg *jst_config_site(const struct jst_config *c, const char *name);

#endif
