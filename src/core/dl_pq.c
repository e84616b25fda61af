/* libpq loaded on first use (dl_pq.h). */
#include <pthread.h>
#include <stdio.h>

#include "core/dl.h"
#include "core/dl_pq.h"
#include "core/util.h"

struct jst__pq_api jst__pq;

#define SYM(f) {#f, (void **)&jst__pq.f, false}
static const struct jst__dl_sym syms[] = {
	SYM(PQconnectdb), SYM(PQfinish), SYM(PQreset), SYM(PQstatus), SYM(PQerrorMessage),
	SYM(PQsetNoticeProcessor), SYM(PQexec), SYM(PQexecParams), SYM(PQprepare),
	SYM(PQexecPrepared), SYM(PQgetResult), SYM(PQputCopyData), SYM(PQputCopyEnd),
	SYM(PQresultStatus), SYM(PQresultErrorMessage), SYM(PQresultErrorField), SYM(PQclear),
	SYM(PQntuples), SYM(PQcmdTuples), SYM(PQgetvalue), SYM(PQgetlength), SYM(PQgetisnull),
	SYM(PQunescapeBytea), SYM(PQfreemem),
};
#undef SYM

static const struct jst__dl_lib lib = {"libpq.so.5", "JOULESTREAM_PQ_LIB", "libpq5", syms,
                                       JST_ARRAY_LEN(syms), NULL, NULL};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[512];

static void load(void)
{
	load_rc = jst__dl_load(&lib, load_err, sizeof(load_err));
}

int jst__pq_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (load_rc < 0)
		snprintf(err, errlen, "%s", load_err);
	return load_rc;
}
