/* Trustworthy records (docs/integrity.md): integrity flags by name, the host calibration that
 * separates a job's dynamic energy from the machine's idle floor, the per-store hash chain that
 * `joulestream verify` checks, and signed attestations (in-toto statements in DSSE envelopes,
 * Ed25519 through libsodium). The code is in src/trust/. */
#ifndef JOULESTREAM_TRUST_H
#define JOULESTREAM_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "joulestream/common.h"
#include "joulestream/flags.h"
#include "joulestream/record.h"

struct jst_store;

/* ---- integrity flags: their names are the record's (flags.h) ---------------------------- */

/* ---- calibration ------------------------------------------------------------------------- */

#define JST_CALIB_LOAD_FACTOR 1.2 /* power under the reference load / idle: at least this */

/* One zone's idle power and its response to the reference workload. */
struct jst_calib_zone {
	char zone[64];
	char source[16];
	char uid[128];
	enum jst_zone_kind kind;
	bool counted, estimate;
	double idle_w; /* mean power over the idle period */
	double load_w; /* mean power under the reference load (0: not loaded) */
	double ratio;  /* load_w / idle_w (0: not measured) */
	unsigned long samples;
};

/* A host's calibration: idle power per zone and the reference workload's verdict. */
struct jst_calibration {
	char host[256];
	uint64_t calibrated_ns; /* UTC */
	double duration_s;      /* idle measurement */
	double interval_s;
	char load[8];     /* "cpu", "gpu", "both", "none" */
	unsigned threads; /* CPU load threads */
	double load_s;    /* reference workload length per device kind */
	bool ref_ok;      /* every loaded zone responded by JST_CALIB_LOAD_FACTOR */
	char result[512]; /* the verdict in words (warnings included) */
	char sensors[256];
	size_t nzones;
	struct jst_calib_zone zones[JST_ZONES_MAX];
};

struct jst_calib_opts {
	struct jst_roots roots;
	const char *sensors; /* backends, NULL: automatic */
	bool no_estimate;
	double duration_s; /* idle measurement (default 60) */
	double interval_s; /* sampling (default 0.5) */
	const char *load;  /* "cpu" (default), "gpu", "both", "none" */
	unsigned threads;  /* CPU load threads (0: one per CPU) */
	double load_s;     /* reference workload per kind (default 10, at most duration) */
	/* progress: called about once a second with the phase ("idle", "cpu load") */
	void (*progress)(void *ud, const char *phase, double done_s, double total_s);
	void *ud;
};

/* Measures the host: idle power per zone over duration_s, then the reference workload. Takes
 * as long as asked; the host should be idle meanwhile. 0 or a negative errno with err set. */
JST_API int jst_calibrate(const struct jst_calib_opts *o, struct jst_calibration *out, char *err,
			  size_t errlen);

/* 0 when the store keeps calibrations and an event chain (SQLite and PostgreSQL do); otherwise
 * -ENOTSUP with the store's message saying that `what` is not supported. Check before long work. */
JST_API int jst_store_trust_check(struct jst_store *s, const char *what);

/* Keeps a calibration (host_calibration, host_reference); calibrations are never replaced. */
JST_API int jst_store_add_calibration(struct jst_store *s, const struct jst_calibration *c);
/* True when the store keeps calibrations (SQLite and PostgreSQL do). */
JST_API bool jst_store_can_calibrate(const struct jst_store *s);
/* The newest calibration of host made at or before before_ns (0: the newest of all); -ENOENT. */
JST_API int jst_store_calibration(struct jst_store *s, const char *host, uint64_t before_ns,
				  struct jst_calibration *out);
/* Fills run->floor from the store's calibrations of the run's host (the newest made before
 * the run ended, else the newest, marked `after`). 0, or -ENOENT when the host has none. */
JST_API int jst_store_floor(struct jst_store *s, struct jst_run *run);
/* run->floor from one calibration (pure). */
JST_API void jst_floor_compute(const struct jst_calibration *c, struct jst_run *run);

/* ---- the record chain of earlier releases, and a run's event digest ------------------------ */

/* What `joulestream verify` found of the record chain that SQLite stores kept before issue 11
 * (run_chain: one entry per sealed run record). Since migration 12 the records are events, so
 * the chain is an archive: its entries are walked (links, hashes, numbering) and its head is
 * compared with the one the migration recorded (legacy_chain). */
struct jst_chain_report {
	size_t entries;      /* archived chain entries read */
	size_t problems;     /* breaks: edited, inserted or deleted entries, a head that differs */
	size_t migrated;     /* runs the migration turned into events */
	uint64_t migrated_ns; /* when (0: this store was never migrated) */
	char head[65];       /* hash of the newest archived entry ("" when none) */
	char recorded[65];   /* the head the migration recorded */
};

/* Called for each problem: the run (may be ""), the chain entry (0 when none) and a sentence. */
typedef void (*jst_verify_fn)(void *ud, bool problem, const char *run_id, long long seq,
			      const char *what);

/* Walks the archived record chain. Returns 0 (read: see out->problems), -ENOTSUP when the store
 * never had one (PostgreSQL), or a negative errno with the store's message set. */
JST_API int jst_store_verify(struct jst_store *s, jst_verify_fn fn, void *ud,
			     struct jst_chain_report *out);

/* The run's event digest: sha256 over its events in log order (docs/integrity.md), the same
 * for the same events in any store; hex into out[65]. What attestations sign and `show` prints
 * as the record hash. -ENOENT when the log holds no event of the run. */
JST_API int jst_store_event_digest(struct jst_store *s, const char *run_id, char out[65]);

/* The newest entry's hash of the store's event chain (hex into out[65]; "" for an empty
 * chain), without verifying; -ENOTSUP for a store without one. */
JST_API int jst_store_chain_head(struct jst_store *s, char out[65]);

/* ---- keys and signed attestations ----------------------------------------------------------- */

#define JST_KEY_FILE_MAX 4096        /* a key file is a few lines */
#define JST_ENVELOPE_MAX (16u << 20) /* an attestation file */
#define JST_DSSE_SIGS_MAX 8
#define JST_INTOTO_TYPE "https://in-toto.io/Statement/v1"
#define JST_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define JST_PREDICATE_TYPE "https://joulestream.dev/attestation/footprint/v1"

/* An Ed25519 key: the public half always, the secret one from a private key file. */
struct jst_key {
	bool has_secret;
	unsigned char pk[32];
	unsigned char sk[64]; /* libsodium's: seed then public key */
	char keyid[65];       /* hex SHA-256 of pk */
};

/* $XDG_CONFIG_HOME/joulestream/keys or ~/.config/joulestream/keys into out. 0 or -ENOENT. */
JST_API int jst_key_default_dir(char *out, size_t n);
/* Makes a key pair in dir (created 0700 when missing): joulestream.key (mode 0600) and
 * joulestream.pub. Refuses to overwrite (-EEXIST). The paths written go to priv and pub
 * (each PATH_MAX-sized, may be NULL). 0 or a negative errno with err set. */
JST_API int jst_key_create(const char *dir, struct jst_key *out, char *priv, char *pub, char *err,
			   size_t errlen);
/* Parses a key file's text (private or public). Pure; 0 or -EINVAL with err set. */
JST_API int jst_key_parse(const char *p, size_t n, struct jst_key *k, char *err, size_t errlen);
/* Reads and parses a key file; a private key file must not be readable by others. */
JST_API int jst_key_load(const char *path, struct jst_key *k, char *err, size_t errlen);

/* DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * LEN in ASCII decimal without leading zeros. Writes into out when it fits; returns the
 * length it needs. */
JST_API size_t jst_dsse_pae(const char *type, size_t tn, const unsigned char *body, size_t bn,
			    unsigned char *out, size_t outn);

/* A parsed DSSE envelope. */
struct jst_dsse {
	char payload_type[128];
	unsigned char *payload; /* decoded, malloc'd, NUL-terminated (not counted in n) */
	size_t payload_n;
	size_t nsigs;
	struct {
		char keyid[128];
		unsigned char sig[64];
		bool sig_ok; /* 64 bytes decoded */
	} sigs[JST_DSSE_SIGS_MAX];
};

/* Signs payload as a DSSE envelope (one signature, keyid the key's), compact JSON + "\n" into
 * *out (malloc'd). 0 or a negative errno with err set. */
JST_API int jst_dsse_sign(const char *type, const unsigned char *payload, size_t n,
			  const struct jst_key *k, char **out, char *err, size_t errlen);
/* Parses an envelope's JSON text (standard or URL-safe base64, padded or not). Pure but for
 * the payload's allocation; 0 or -EINVAL with err set. Free with jst_dsse_release. */
JST_API int jst_dsse_parse(const char *p, size_t n, struct jst_dsse *e, char *err, size_t errlen);
JST_API void jst_dsse_release(struct jst_dsse *e);
/* 0 when a signature verifies with pub (its index in *which, may be NULL), -EBADMSG when none. */
JST_API int jst_dsse_verify(const struct jst_dsse *e, const struct jst_key *pub, size_t *which);

/* A subject: a name and its SHA-256 (64 hex). */
struct jst_subject {
	char name[256];
	char sha256[65];
};
/* Parses "NAME=sha256:HEX" (or NAME=HEX). 0 or -EINVAL. */
JST_API int jst_subject_parse(const char *s, struct jst_subject *out);

/* The in-toto v1 statement for a run (compact JSON, malloc'd into *out): subjects given, or
 * the run itself (name "joulestream-run:ID", digest its content hash) when n is 0; the
 * predicate holds energy, carbon and water with their sources and data version, sensors,
 * estimate and integrity flags, the idle floor, metadata, the record's content hash and
 * whether it is sealed, and the store's chain head (may be ""). */
JST_API int jst_attest_statement(const struct jst_run *run, const char *content_hash, bool sealed,
				 const char *chain_head, const struct jst_subject *subjects,
				 size_t n, char **out, char *err, size_t errlen);

/* What verify reads back from a statement. */
struct jst_attest_info {
	char run_id[32];
	char content_hash[65];
	size_t nsubjects;
	struct jst_subject subjects[8];
	double energy_j, host_energy_j, co2e_g, water_l;
	char data_version[160];
	size_t nflags;
};
/* Checks a statement's shape (type, predicate type, subjects with SHA-256 digests, the run)
 * and fills info. Pure; 0 or -EINVAL with err set. */
JST_API int jst_attest_parse(const char *p, size_t n, struct jst_attest_info *info, char *err,
			     size_t errlen);

#endif
