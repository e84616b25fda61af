/* Helpers the subcommands share: durations and numbers from the command line, opening the
 * store chosen with --db (or the default one), printing paths with ~, the --sysfs-root and
 * --procfs-root folders as containers mount them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/store.h"

int cli_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {{"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}};
	size_t len = strlen(s), numlen = len;
	double scale = 1e9;
	for (size_t i = 0; i < JST_ARRAY_LEN(units); i++) {
		size_t sl = strlen(units[i].suffix);
		if (len > sl && strcmp(s + len - sl, units[i].suffix) == 0 &&
		    ((s[len - sl - 1] >= '0' && s[len - sl - 1] <= '9') || s[len - sl - 1] == '.')) {
			numlen = len - sl;
			scale = units[i].scale;
		}
	}
	double v;
	if (jst__parse_double(s, numlen, &v) < 0 || v <= 0 || v * scale > 1e18)
		return -EINVAL;
	*ns = (uint64_t)(v * scale + 0.5);
	return 0;
}

int cli_parse_number(const char *s, double lo, double hi, double *out)
{
	double v;
	if (jst__parse_double(s, strlen(s), &v) < 0 || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

struct jst_store *cli_open_store(const char *db, bool create, char *path_out, size_t n)
{
	char path[1024], err[600];
	if (db && *db) {
		jst__strlcpy(path, db, sizeof(path));
	} else {
		int r = jst_store_default_path(path, sizeof(path), create);
		if (r < 0) {
			fprintf(stderr, "joulestream: cannot find or create the data directory (%s); "
			        "set XDG_DATA_HOME or HOME, or pass --db PATH\n", jst_strerror(r));
			return NULL;
		}
	}
	if (!create && strchr(path, ':') == NULL) {
		FILE *f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "joulestream: no runs yet: %s does not exist (%s)\n", path,
			        strerror(errno));
			return NULL;
		}
		fclose(f);
	}
	struct jst_store *s;
	if (jst_store_open(&s, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "joulestream: %s\n", err);
		return NULL;
	}
	if (path_out)
		jst__strlcpy(path_out, path, n);
	return s;
}

const char *cli_tilde(const char *path, char *buf, size_t n)
{
	const char *home = getenv("HOME");
	size_t hl = home ? strlen(home) : 0;
	if (hl > 1 && strncmp(path, home, hl) == 0 && path[hl] == '/') {
		snprintf(buf, n, "~%s", path + hl);
		return buf;
	}
	return path;
}

static bool is_dir(const char *dir, const char *sub)
{
	char p[4096];
	struct stat st;
	return snprintf(p, sizeof(p), "%s/%s", dir, sub) < (int)sizeof(p) && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* One root: the folder that holds LEAF/ (kept), or the mount itself, named LEAF, whose parent
 * is then the root; a mount of another name, or a folder holding neither, is an error. */
static int one_root(const char **root, const char *flag, const char *leaf, const char *const *probes, char *buf,
                    size_t n, const char *who)
{
	const char *d = *root;
	if (!d || !*d || strcmp(d, "/") == 0 || is_dir(d, leaf))
		return 0;
	bool mount = false;
	for (const char *const *p = probes; *p && !mount; p++)
		mount = is_dir(d, *p);
	size_t len = strlen(d);
	while (len > 1 && d[len - 1] == '/')
		len--;
	const char *base = d + len;
	while (base > d && base[-1] != '/')
		base--;
	size_t bl = (size_t)(d + len - base);
	if (mount && bl == strlen(leaf) && memcmp(base, leaf, bl) == 0 && (size_t)(base - d) < n) {
		/* "/host/sys" -> "/host", "/sys" -> "/", "sys" -> "." */
		size_t pl = (size_t)(base - d);
		if (pl > 1)
			pl--; /* the slash before the leaf */
		if (pl == 0)
			memcpy(buf, ".", pl = 1);
		else
			memcpy(buf, d, pl);
		buf[pl] = '\0';
		*root = buf;
		return 0;
	}
	if (mount)
		fprintf(stderr, "%s: %s %s is a /%s mount not named %s: mount it at a folder named %s (e.g. "
		        "/host/%s, as node_exporter and Kepler do) or give the folder that holds %s/\n", who, flag, d,
		        leaf, leaf, leaf, leaf, leaf);
	else
		fprintf(stderr, "%s: %s %s holds neither %s/ nor a /%s tree (%s/): give the folder where the host's "
		        "/%s is mounted (e.g. /host/%s), or the one that holds %s/\n", who, flag, d, leaf, leaf,
		        probes[0], leaf, leaf, leaf);
	return -EINVAL;
}

int cli_roots(struct jst_roots *r, const char *who)
{
	static char sys[4096], proc[4096];
	static const char *const sys_probes[] = {"class", "devices", NULL};
	static const char *const proc_probes[] = {"self", "1", "sys", NULL};
	if (one_root(&r->sysfs, "--sysfs-root", "sys", sys_probes, sys, sizeof(sys), who) < 0 ||
	    one_root(&r->procfs, "--procfs-root", "proc", proc_probes, proc, sizeof(proc), who) < 0)
		return -EINVAL;
	return 0;
}

int cli_nonempty(const char *prog, const char *opt, const char *arg)
{
	if (arg && *arg)
		return 0;
	fprintf(stderr, "joulestream %s: %s is empty: give a value (an empty one is refused, not taken "
	        "as none given; leave the option out for the default)\n", prog, opt);
	return 2;
}
