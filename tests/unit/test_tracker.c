/* The in-process tracker from C (what the Python package calls through ctypes): options are
 * checked, marks come from two threads at once while the sampling thread ticks, an epoch mark
 * samples at once so the prediction line is there when it returns, stop stores the run, and
 * the JSON record and text summary hold the phases. The fake NVML gives a constant 300 W GPU,
 * so the run's energy is 300 W × its duration. Under ASan this also checks that nothing leaks. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "joulestream/store.h"
#include "joulestream/tracker.h"
#include "joulestream/train.h"

static void nap_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
	struct jst_tracker *t = arg;
	for (int i = 0; i < 200; i++) {
		const char *b = "phase - begin io", *e = "phase - end io";
		CHECK_INT(jst_tracker_mark(t, b, strlen(b)), 0);
		CHECK_INT(jst_tracker_mark(t, e, strlen(e)), 0);
	}
	return NULL;
}

static void test_options(void)
{
	struct jst_tracker *t;
	CHECK_INT(jst_tracker_new(&t), 0);
	CHECK_INT(jst_tracker_set(t, "colour", "blue"), -EINVAL);
	CHECK_HAS(jst_tracker_error(t), "unknown tracker option 'colour'");
	CHECK_INT(jst_tracker_set(t, "interval", "0"), -EINVAL);
	CHECK_INT(jst_tracker_set(t, "pue", "0.5"), -EINVAL);
	CHECK_INT(jst_tracker_set(t, "scope", "galaxy"), -EINVAL);
	CHECK_INT(jst_tracker_set(t, "store", "maybe"), -EINVAL);
	CHECK_INT(jst_tracker_set(t, "zone", "XX"), 0);
	CHECK_INT(jst_tracker_set(t, "store", "0"), 0);
	CHECK_INT(jst_tracker_start(t), -EINVAL); /* the zone is checked at start */
	CHECK_HAS(jst_tracker_error(t), "unknown zone 'XX'");
	CHECK_INT(jst_tracker_mark(t, "step -", 6), -EINVAL);
	CHECK(jst_tracker_json(t) == NULL);
	jst_tracker_free(t);
}

static void test_run(const char *dir)
{
	char db[600];
	snprintf(db, sizeof(db), "%s/t.db", dir);
	struct jst_tracker *t;
	CHECK_INT(jst_tracker_new(&t), 0);
	static const char *const opts[][2] = {
		{"sensors", "nvml"}, {"scope", "host"}, {"interval", "0.01"}, {"zone", "FR"},
		{"db", ""}, {"command", "test_tracker"}, {"epochs", "2"}, {"model", "m1"},
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK_INT(jst_tracker_set(t, opts[i][0], i == 4 ? db : opts[i][1]), 0);
	CHECK_INT(jst_tracker_start(t), 0);
	CHECK_INT(jst_tracker_set(t, "zone", "DE"), -EBUSY);
	char line[1024];
	for (int e = 1; e <= 2; e++) {
		char msg[64];
		snprintf(msg, sizeof(msg), "epoch - begin %d\nphase - begin train", e);
		CHECK_INT(jst_tracker_mark(t, msg, strlen(msg)), 0);
		pthread_t th;
		pthread_create(&th, NULL, worker, t);
		nap_ms(30);
		pthread_join(th, NULL);
		CHECK_INT(jst_tracker_mark(t, "phase - end train", 17), 0);
		CHECK_INT(jst_tracker_mark(t, "metric - loss=0.5", 17), 0);
	}
	CHECK_INT(jst_tracker_mark(t, "epoch - end", 11), 0);
	/* the end of epoch 2 is sampled now, or by the next tick when the last one was recent */
	char all[4096] = "";
	unsigned seen = 0;
	for (int i = 0; i < 1000 && !strstr(all, "epochs done"); i++) {
		if (jst_tracker_messages(t, &seen, line, sizeof(line)) > 0)
			strncat(all, line, sizeof(all) - strlen(all) - 1);
		else
			nap_ms(10);
	}
	CHECK_HAS(all, "prediction after 1 of 2 epochs");
	CHECK_HAS(all, "2 of 2 epochs done");
	CHECK_INT(jst_tracker_mark(t, "phase - begin a b", 17), -EINVAL);
	char *snap = jst_tracker_json(t);
	CHECK_HAS(snap, "\"status\":\"running\"");
	jst_tracker_free_string(snap);
	CHECK_INT(jst_tracker_stop(t, 0), 0);
	CHECK_STR(jst_tracker_store_path(t), db);
	char *json = jst_tracker_json(t), *text = jst_tracker_text(t);
	CHECK_HAS(json, "\"path\":\"train/io\"");
	CHECK_HAS(json, "\"entries\":400");
	CHECK_HAS(json, "\"model\":\"m1\"");
	CHECK_HAS(json, "\"bad_marks\":1");
	CHECK_HAS(text, "train/io");
	CHECK_HAS(text, "test_tracker");
	jst_tracker_free_string(json);
	jst_tracker_free_string(text);
	char id[JST_RUN_ID_LEN + 1];
	snprintf(id, sizeof(id), "%s", jst_tracker_run_id(t));
	jst_tracker_free(t);

	/* stored: the run, its energy (300 W × duration) and its training record */
	struct jst_store *s;
	char err[600];
	CHECK_INT(jst_store_open(&s, db, err, sizeof(err)), 0);
	struct jst_run *run = calloc(1, sizeof(*run));
	struct jst_train *tr = jst_train_new();
	CHECK_INT(jst_store_load(s, id, run), 0);
	CHECK_NEAR(run->run_j, 300 * run->duration_s, 1e-6 * run->run_j);
	CHECK_INT(jst_store_load_train(s, run, tr), 0);
	CHECK_INT(tr->nepochs, 2);
	CHECK_INT(tr->metrics_logged, 2);
	CHECK(tr->prediction.reached);
	free(tr);
	free(run);
	jst_store_close(s);
}

int main(void)
{
	const char *fake = getenv("JST_FAKE_NVML");
	if (!fake) {
		fprintf(stderr, "JST_FAKE_NVML is not set\n");
		return 1;
	}
	char dir[] = "/tmp/jst-tracker-XXXXXX", conf[600], cmd[700];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(conf, sizeof(conf), "%s/nvml.conf", dir);
	FILE *f = fopen(conf, "w");
	fprintf(f, "gpu 0 name=\"NVIDIA H100\" uuid=GPU-1 energy=unsupported power_mw=300000\n");
	fclose(f);
	setenv("JOULESTREAM_NVML_LIB", fake, 1);
	setenv("FAKE_NVML_CONFIG", conf, 1);
	test_options();
	test_run(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	return check_done();
}
