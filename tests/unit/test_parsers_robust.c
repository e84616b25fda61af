/* The carbon parsers against damaged input: seeds in every accepted format (CSV, Electricity
 * Maps, WattTime, the configuration file, zone.tab, ISO 8601) are mutated deterministically
 * (bytes flipped, cut, duplicated, NULs and quotes inserted) and fed back. Each must return 0
 * or an error with a message, never crash or read past its input: the buffer is exactly n
 * bytes, unterminated, so the ASan build catches any overread. A stand-in for a fuzz target. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/isotime.h"
#include "joulestream/config.h"
#include "joulestream/intensity.h"

static const char *const seeds[] = {
	"datetime,zone,ci_g_per_kwh\n2024-03-01T00:00:00Z,DE,100\n2024-03-01T01:00:00+01:00,FR,\"40\"\n",
	"{\"zone\":\"DE\",\"history\":[{\"carbonIntensity\":302,\"datetime\":\"2024-03-01T00:00:00.000Z\"},"
	"{\"carbonIntensity\":310,\"datetime\":\"2024-03-01T01:00:00.000Z\"}]}",
	"{\"zone\":\"DE\",\"carbonIntensity\":302,\"datetime\":\"2024-03-01T00:00:00Z\"}",
	"{\"data\":[{\"point_time\":\"2024-03-01T00:00:00+00:00\",\"value\":1000}],\"meta\":"
	"{\"units\":\"lbs_co2_per_mwh\",\"region\":\"CAISO_NORTH\",\"data_point_period_seconds\":300}}",
	"[default]\nsite = lab\n[site lab]\nzone = DE\npue = 1.2\n[electricitymaps]\ntoken = \"a b\"\n",
	"DE\t+5230+01322\tEurope/Berlin\nCH,DE\t+4723+00832\tEurope/Zurich\tx\n",
};

static uint64_t rng = 0x9E3779B97F4A7C15u;

static unsigned next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static size_t mutate(const char *seed, char *out, size_t cap)
{
	size_t n = strlen(seed);
	memcpy(out, seed, n);
	for (unsigned k = 1 + next(4); k > 0 && n > 0; k--) {
		size_t at = next((unsigned)n);
		static const char junk[] = "\0\"{}[],:\n\t-+Z9e.\\\xff";
		switch (next(5)) {
		case 0: out[at] = junk[next(sizeof(junk) - 1)]; break;         /* replace */
		case 1: n = at; break;                                          /* cut */
		case 2: out[at] = (char)next(256); break;                       /* any byte */
		case 3:                                                         /* duplicate a slice */
			if (n + 16 < cap) {
				memmove(out + at + 16, out + at, n - at);
				n += 16;
			}
			break;
		default:                                                        /* delete one */
			memmove(out + at, out + at + 1, n - at - 1);
			n--;
		}
	}
	return n;
}

int main(void)
{
	char *buf = malloc(4096);
	unsigned parsed = 0, rejected = 0;
	CHECK(buf != NULL);
	for (size_t s = 0; buf && s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		for (int i = 0; i < 3000; i++) {
			size_t n = mutate(seeds[s], buf, 4096);
			char *in = malloc(n ? n : 1); /* exactly n bytes: ASan sees any overread */
			char err[512] = "";
			memcpy(in, buf, n);
			struct jst_ci_file *f = NULL;
			int r = jst_ci_parse(in, n, "fuzz", NULL, &f, err, sizeof(err));
			CHECK((r == 0 && f && jst_ci_count(f) > 0) || (r < 0 && !f && err[0]));
			r == 0 ? parsed++ : rejected++;
			jst_ci_free(f);
			struct jst_config c;
			err[0] = '\0';
			r = jst_config_parse(in, n, "fuzz", &c, err, sizeof(err));
			CHECK(r == 0 || (r == -EINVAL && err[0] && c.nsites == 0));
			char cc[8];
			jst_zonetab_country(in, n, "Europe/Berlin", cc, sizeof(cc));
			int64_t ns;
			jst__parse_iso8601(in, n < 40 ? n : 40, &ns, NULL);
			free(in);
		}
	}
	printf("%u parsed, %u rejected\n", parsed, rejected);
	CHECK(parsed > 0 && rejected > 0);
	free(buf);
	return check_done();
}
