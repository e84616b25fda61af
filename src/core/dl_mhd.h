/* libmicrohttpd (libmicrohttpd.so.12), loaded on first use (dl.h): `serve` and the agent's
 * /metrics (server/httpd.c) call it through jst__mhd, whose members have the names and types
 * of the functions they point to. Call jst__mhd_load() first. */
#ifndef JST_CORE_DL_MHD_H
#define JST_CORE_DL_MHD_H

#include <stddef.h>

#include <microhttpd.h>

struct jst__mhd_api {
	__typeof__(MHD_start_daemon) *MHD_start_daemon;
	__typeof__(MHD_stop_daemon) *MHD_stop_daemon;
	__typeof__(MHD_get_daemon_info) *MHD_get_daemon_info;
	__typeof__(MHD_is_feature_supported) *MHD_is_feature_supported;
	__typeof__(MHD_lookup_connection_value) *MHD_lookup_connection_value;
	__typeof__(MHD_get_connection_info) *MHD_get_connection_info; /* the client's address */
	__typeof__(MHD_create_response_from_buffer) *MHD_create_response_from_buffer;
	__typeof__(MHD_add_response_header) *MHD_add_response_header;
	__typeof__(MHD_queue_response) *MHD_queue_response;
	__typeof__(MHD_destroy_response) *MHD_destroy_response;
};

/* Filled by jst__mhd_load(); read-only after. */
extern struct jst__mhd_api jst__mhd;

/* Loads libmicrohttpd (or $JOULESTREAM_MHD_LIB) once per process. 0, or a negative errno with
 * a message naming the package in err. */
int jst__mhd_load(char *err, size_t errlen);

#endif
