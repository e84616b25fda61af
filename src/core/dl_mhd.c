/* libmicrohttpd loaded on first use (dl_mhd.h). */
#include <pthread.h>
#include <stdio.h>

#include "core/dl.h"
#include "core/dl_mhd.h"
#include "core/util.h"

struct jst__mhd_api jst__mhd;

#define SYM(f) {#f, (void **)&jst__mhd.f, false}
static const struct jst__dl_sym syms[] = {
	SYM(MHD_start_daemon), SYM(MHD_stop_daemon), SYM(MHD_get_daemon_info),
	SYM(MHD_is_feature_supported), SYM(MHD_lookup_connection_value), SYM(MHD_get_connection_info),
	SYM(MHD_create_response_from_buffer), SYM(MHD_add_response_header),
	SYM(MHD_queue_response), SYM(MHD_destroy_response),
};
#undef SYM

static const struct jst__dl_lib lib = {"libmicrohttpd.so.12", "JOULESTREAM_MHD_LIB", "libmicrohttpd12",
                                       syms, JST_ARRAY_LEN(syms), NULL, NULL};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[512];

static void load(void)
{
	load_rc = jst__dl_load(&lib, load_err, sizeof(load_err));
}

int jst__mhd_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (load_rc < 0)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}
