/* The configuration file and the choice of a run's zone: a full file parses; every kind of
 * mistake is an error naming the file and the line, with nothing half loaded; sites give the
 * zone, PUE and WUE with options overriding single fields; the default site applies only when
 * nothing else places the run; the time-zone guess (TZ, zone.tab of a fixture TZDIR) is marked
 * guessed; UTC and POSIX TZ strings give no guess, so the world average is used and said. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/config.h"
#include "joulestream/intensity.h"
#include "joulestream/record.h"

static const char good[] =
	"# joulestream configuration\n"
	"[default]\n"
	"site = lab\n"
	"live = electricitymaps\n"
	"\n"
	"[site lab]\n"
	"zone = DE\n"
	"pue = 1.3\n"
	"wue = 0.2\n"
	"embodied_kg = 2000\n"
	"[site cloud]\n"
	"cloud = aws:eu-west-1\n"
	"  ; another comment\n"
	"[electricitymaps]\n"
	"token = \"a#b c\"\n"
	"url = http://127.0.0.1:9/\n"
	"[watttime]\n"
	"user = ada\n"
	"password = p=w\n"
	"region = CAISO_NORTH\n"
	"[http]\n"
	"timeout = 2.5\n"
	"connect_timeout = 0.5\n"
	"cache_ttl = 0\n";

static void test_parse(void)
{
	struct jst_config c;
	char err[256];
	CHECK_INT(jst_config_parse(good, sizeof(good) - 1, "cfg", &c, err, sizeof(err)), 0);
	CHECK_STR(c.default_site, "lab");
	CHECK_STR(c.live, "electricitymaps");
	CHECK_INT(c.nsites, 2);
	const struct jst_site_cfg *lab = jst_config_site(&c, "lab");
	CHECK(lab && strcmp(lab->zone, "DE") == 0 && lab->pue == 1.3 && lab->wue == 0.2 &&
	      lab->embodied_kg == 2000 && lab->lifetime_years < 0);
	CHECK(jst_config_site(&c, "cloud") && strcmp(jst_config_site(&c, "cloud")->cloud, "aws:eu-west-1") == 0);
	CHECK(jst_config_site(&c, "nope") == NULL);
	CHECK_STR(c.em_token, "a#b c");
	CHECK_STR(c.wt_password, "p=w");
	CHECK_STR(c.wt_region, "CAISO_NORTH");
	CHECK_NEAR(c.timeout_s, 2.5, 0);
	CHECK_NEAR(c.connect_timeout_s, 0.5, 0);
	CHECK_NEAR(c.cache_ttl_s, 0, 0);
}

static void bad(const char *text, const char *want)
{
	struct jst_config c;
	char err[256] = "";
	CHECK_INT(jst_config_parse(text, strlen(text), "/etc/x.conf", &c, err, sizeof(err)), -EINVAL);
	CHECK_HAS(err, want);
	CHECK_INT(c.nsites, 0); /* nothing half loaded */
	CHECK_STR(c.default_site, "");
}

static void test_errors(void)
{
	bad("[site lab]\nzone = DE\npeu = 1.2\n", "/etc/x.conf: line 3: unknown key 'peu' in [site lab]");
	bad("[site lab]\npue = 0.5\n", "line 2: 'pue' must be a number from 1 to 5, not '0.5'");
	bad("[site lab]\npue = 1.2\npue = 1.3\n", "line 3: 'pue' is set twice");
	bad("zone = DE\n", "line 1: 'zone' comes before any [section]");
	bad("[sites]\n", "line 1: unknown section [sites]");
	bad("[site lab\n", "line 1: a section line must end with ']'");
	bad("[site a]\n[site a]\n", "line 2: second [site a] (the first is at line 1)");
	bad("[default]\nsite = nowhere\n", "[default] site = nowhere, but there is no [site nowhere]");
	bad("[default]\nlive = maybe\n", "line 2: live must be electricitymaps, watttime or off");
	bad("[electricitymaps]\ntoken = \"abc\n", "line 2: unbalanced quote");
	bad("[electricitymaps]\ntoken =\n", "line 2: 'token' has an empty value");
	bad("[http]\njust words\n", "line 2: expected 'key = value'");
	bad("[site lab]\nZone = DE\n", "line 2: bad key 'Zone'");
}

static void test_sites(void)
{
	struct jst_config c;
	char err[256], msg[256];
	CHECK_INT(jst_config_parse(good, sizeof(good) - 1, "cfg", &c, err, sizeof(err)), 0);
	strcpy(c.path, "/home/ada/.config/joulestream/config");
	static struct jst_run run;
	/* nothing given: the default site */
	struct jst_site_opts o = {NULL, NULL, NULL, -1, -1, &c, true, NULL};
	memset(&run, 0, sizeof(run));
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK_STR(run.site.zone_code, "DE");
	CHECK_INT(run.site.zone_origin, JST_ORIGIN_SITE);
	CHECK_STR(run.site.name, "lab");
	CHECK_NEAR(run.site.pue, 1.3, 0);
	CHECK_HAS(run.site.pue_source, "site lab");
	CHECK_NEAR(run.site.embodied_kg_opt, 2000, 0);
	/* --zone places the run: the default site is not used */
	o.zone = "FR";
	memset(&run, 0, sizeof(run));
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK_STR(run.site.zone_code, "FR");
	CHECK_INT(run.site.zone_origin, JST_ORIGIN_OPTION);
	CHECK_STR(run.site.pue_source, "default");
	/* --site with --pue: the option wins for PUE, the site gives the zone and WUE */
	o = (struct jst_site_opts){NULL, NULL, "lab", 1.1, -1, &c, true, NULL};
	memset(&run, 0, sizeof(run));
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK(strcmp(run.site.zone_code, "DE") == 0 && run.site.pue == 1.1 &&
	      run.site.wue_l_per_kwh == 0.2);
	CHECK_STR(run.site.pue_source, "given");
	/* a cloud site: zone, PUE and WUE of the region */
	o = (struct jst_site_opts){NULL, NULL, "cloud", -1, -1, &c, true, NULL};
	memset(&run, 0, sizeof(run));
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK(strcmp(run.site.zone_code, "IE") == 0 && run.site.zone_origin == JST_ORIGIN_SITE && run.site.pue == 1.14);
	/* an unknown site lists the known ones */
	o.site = "lba";
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), -ENOENT);
	CHECK_HAS(msg, "unknown site 'lba' in /home/ada/.config/joulestream/config (its sites: lab, cloud)");
	/* without a configuration file */
	struct jst_config empty;
	jst_config_init(&empty);
	o.cfg = &empty;
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), -ENOENT);
	CHECK_HAS(msg, "--site lba: no configuration file");
}

static void test_zonetab(void)
{
	static const char tab[] = "# tzdb\n"
	                          "DE\t+5230+01322\tEurope/Berlin\tmost of Germany\n"
	                          "CH,DE,LI\t+4723+00832\tEurope/Zurich\tBüsingen\n"
	                          "US\t+404251-0740023\tAmerica/New_York\tEastern (most areas)\n"
	                          "IN\t+2232+08822\tAsia/Kolkata\n";
	char cc[8];
	CHECK_INT(jst_zonetab_country(tab, sizeof(tab) - 1, "Europe/Berlin", cc, sizeof(cc)), 0);
	CHECK_STR(cc, "DE");
	CHECK_INT(jst_zonetab_country(tab, sizeof(tab) - 1, "Europe/Zurich", cc, sizeof(cc)), 0);
	CHECK_STR(cc, "CH"); /* the first country listed */
	CHECK_INT(jst_zonetab_country(tab, sizeof(tab) - 1, "Asia/Kolkata", cc, sizeof(cc)), 0);
	CHECK_STR(cc, "IN");
	CHECK_INT(jst_zonetab_country(tab, sizeof(tab) - 1, "Europe/Berl", cc, sizeof(cc)), -ENOENT);
	CHECK_INT(jst_zonetab_country(tab, sizeof(tab) - 1, "Etc/UTC", cc, sizeof(cc)), -ENOENT);
}

static void test_tz_guess(void)
{
	char dir[] = "/tmp/jst-tz-XXXXXX", path[256], tz[64], cc[8], msg[128];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/zone.tab", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("DE\t+5230+01322\tEurope/Berlin\nAU\t-3352+15113\tAustralia/Sydney\tNSW\n", f);
	fclose(f);
	setenv("TZDIR", dir, 1);
	setenv("TZ", "Europe/Berlin", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), 0);
	CHECK(strcmp(tz, "Europe/Berlin") == 0 && strcmp(cc, "DE") == 0);
	setenv("TZ", ":Australia/Sydney", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), 0);
	CHECK_STR(cc, "AU");
	setenv("TZ", "/usr/share/zoneinfo/Europe/Berlin", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), 0);
	CHECK_STR(tz, "Europe/Berlin");
	setenv("TZ", "UTC", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), -ENOENT);
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), -ENOENT);
	setenv("TZ", "../../etc/passwd", 1);
	CHECK_INT(jst_tz_guess(NULL, tz, sizeof(tz), cc, sizeof(cc)), -ENOENT);

	/* a run with nothing else: guessed, and marked so */
	static struct jst_run run;
	struct jst_site_opts o = {NULL, NULL, NULL, -1, -1, NULL, false, NULL};
	setenv("TZ", "Europe/Berlin", 1);
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK(strcmp(run.site.zone_code, "DE") == 0 && run.site.zone_origin == JST_ORIGIN_GUESSED);
	CHECK_STR(run.site.tz_guess, "Europe/Berlin");
	CHECK_STR(run.site.pue_source, "default");
	/* UTC: no guess, the world average, origin none */
	memset(&run, 0, sizeof(run));
	setenv("TZ", "Etc/UTC", 1);
	CHECK_INT(jst_run_resolve_site(&run, &o, msg, sizeof(msg)), 0);
	CHECK(strcmp(run.site.zone_code, "WORLD") == 0 && run.site.zone_origin == JST_ORIGIN_NONE);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_errors();
	test_sites();
	test_zonetab();
	test_tz_guess();
	return check_done();
}
