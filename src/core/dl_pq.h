/* libpq (libpq.so.5), loaded on first use (dl.h): the PostgreSQL store (store/postgres*.c)
 * calls it through jst__pq, whose members have the names and types of the functions they
 * point to. pg_open() calls jst__pq_load() before anything else. */
#ifndef JST_CORE_DL_PQ_H
#define JST_CORE_DL_PQ_H

#include <stddef.h>

#include <libpq-fe.h>

struct jst__pq_api {
	__typeof__(PQconnectdb) *PQconnectdb;
	__typeof__(PQfinish) *PQfinish;
	__typeof__(PQreset) *PQreset;
	__typeof__(PQstatus) *PQstatus;
	__typeof__(PQerrorMessage) *PQerrorMessage;
	__typeof__(PQsetNoticeProcessor) *PQsetNoticeProcessor;
	__typeof__(PQexec) *PQexec;
	__typeof__(PQexecParams) *PQexecParams;
	__typeof__(PQprepare) *PQprepare;
	__typeof__(PQexecPrepared) *PQexecPrepared;
	__typeof__(PQgetResult) *PQgetResult;
	__typeof__(PQputCopyData) *PQputCopyData;
	__typeof__(PQputCopyEnd) *PQputCopyEnd;
	__typeof__(PQresultStatus) *PQresultStatus;
	__typeof__(PQresultErrorMessage) *PQresultErrorMessage;
	__typeof__(PQresultErrorField) *PQresultErrorField;
	__typeof__(PQclear) *PQclear;
	__typeof__(PQntuples) *PQntuples;
	__typeof__(PQcmdTuples) *PQcmdTuples;
	__typeof__(PQgetvalue) *PQgetvalue;
	__typeof__(PQgetlength) *PQgetlength;
	__typeof__(PQgetisnull) *PQgetisnull;
	__typeof__(PQunescapeBytea) *PQunescapeBytea;
	__typeof__(PQfreemem) *PQfreemem;
};

/* Filled by jst__pq_load(); read-only after. */
extern struct jst__pq_api jst__pq;

/* Loads libpq (or $JOULESTREAM_PQ_LIB) once per process. 0, or a negative errno with a message
 * naming the package in err. */
int jst__pq_load(char *err, size_t errlen);

#endif
