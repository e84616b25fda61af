/* `joulestream sensors`: every backend, what it found, and why anything is unavailable, so a
 * user sees at once whether figures will be measured or estimated and what to fix. With
 * --read DUR it also takes one reading over that interval and prints each zone's power. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/util.h"
#include "joulestream/sensor.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: joulestream sensors [--read DUR] [--sensors LIST] [--sysfs-root DIR] [--procfs-root DIR]\n"
	           "Lists every sensor backend, the zones it found, and why any is unavailable.\n"
	           "  --read DUR   also measure each zone's power over DUR (e.g. 1s)\n");
}

static void print_zones(struct jst_sensors *s, const struct jst_reading *rd)
{
	for (size_t i = 0; i < jst_sensors_count(s); i++) {
		const struct jst_zone *z = jst_sensors_zone(s, i);
		printf("    %-14s %-8s %-30s", z->name, jst_zone_kind_name(z->kind), z->label[0] ? z->label : "-");
		if (z->max_power_w > 0)
			printf(" max %.0f W", z->max_power_w);
		if (!(z->flags & JST_ZONE_COUNTED))
			printf(" (not added to the host total)");
		if (z->flags & JST_ZONE_ESTIMATE)
			printf(" estimate");
		if (rd) {
			if (rd[i].flags & JST_READ_ENERGY)
				printf("  %.2f W", rd[i].power_w);
			else
				printf("  no reading");
		}
		printf("\n");
	}
}

int cli_sensors(int argc, char **argv)
{
	static const struct option lo[] = {
		{"read", required_argument, 0, 'r'}, {"sensors", required_argument, 0, 's'},
		{"sysfs-root", required_argument, 0, 'S'}, {"procfs-root", required_argument, 0, 'P'},
		{"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
	};
	struct jst_sensor_opts so = {0};
	uint64_t read_ns = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (cli_parse_duration(optarg, &read_ns) < 0 || read_ns > 60000000000u) {
				fprintf(stderr, "joulestream sensors: bad --read '%s' (up to 60s)\n", optarg);
				return 2;
			}
			break;
		case 's': so.only = optarg; break;
		case 'S': so.roots.sysfs = optarg; break;
		case 'P': so.roots.procfs = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (cli_roots(&so.roots, "joulestream sensors") < 0)
		return 2;
	struct jst_sensors *s;
	int r = jst_sensors_open(&s, &so);
	if (r < 0) {
		fprintf(stderr, "joulestream sensors: %s\n", jst_strerror(r));
		return 1;
	}
	struct jst_reading rd[JST_ZONES_MAX];
	if (read_ns) {
		struct timespec ts = {(time_t)(read_ns / 1000000000u), (long)(read_ns % 1000000000u)};
		nanosleep(&ts, NULL);
		jst_sensors_read(s, jst__mono_ns(), rd);
	}
	for (size_t b = 0; b < jst_sensors_backend_count(s); b++) {
		const struct jst_backend_status *st = jst_sensors_backend(s, b);
		printf("%-9s %-10s %s\n", st->name, jst_backend_state_name(st->state), st->description);
		if (st->why[0])
			printf("    %s\n", st->why);
	}
	printf("\nzones:\n");
	if (jst_sensors_count(s) == 0)
		printf("    none: energy cannot be measured or estimated here\n");
	print_zones(s, read_ns ? rd : NULL);
	if (jst_sensors_estimated(s))
		printf("\nestimate: no sensor measures some zones here; their figures are modelled and "
		       "labelled estimate in every output\n");
	jst_sensors_close(s);
	return 0;
}
