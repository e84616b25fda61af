/* A Kafka cluster for the tests: librdkafka's mock cluster (rdkafka_mock.h, the Kafka protocol
 * on loopback, consumer groups included) with one broker and the topics named on the command
 * line, each with PARTITIONS partitions. Prints "bootstrap HOST:PORT" once ready and stays up
 * until INT or TERM. With `produce`, sends each line of stdin as one message (no key) to a
 * running cluster as it reads them: raw, possibly invalid, messages for the tests, to the
 * partitions in turn when N is given (line i to partition i % N). This test helper links
 * librdkafka directly; the program never does.
 *   kafka_mock PARTITIONS TOPIC...
 *   kafka_mock produce BOOTSTRAP TOPIC [N] < LINES   */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static int produce(const char *bootstrap, const char *topic, int nparts)
{
	char err[512], line[65536];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	int rc = 0;
	for (long i = 0; fgets(line, sizeof(line), stdin); i++) {
		size_t n = strcspn(line, "\n");
		int32_t part = nparts > 0 ? (int32_t)(i % nparts) : RD_KAFKA_PARTITION_UA;
		if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_VALUE(line, n),
		                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0)
			rc = 1;
		rd_kafka_poll(rk, 0);
	}
	if (rd_kafka_flush(rk, 30000) != 0 || rd_kafka_outq_len(rk) != 0) {
		fprintf(stderr, "kafka_mock: not every message was delivered\n");
		rc = 1;
	}
	rd_kafka_destroy(rk);
	return rc;
}

int main(int argc, char **argv)
{
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "produce") == 0)
		return produce(argv[2], argv[3], argc == 5 ? atoi(argv[4]) : 0);
	if (argc < 3 || atoi(argv[1]) < 1) {
		fprintf(stderr, "usage: kafka_mock PARTITIONS TOPIC... | kafka_mock produce BOOTSTRAP TOPIC [N]\n");
		return 2;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL); /* before librdkafka's threads start */
	char err[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", err);
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
	if (!mc) {
		fprintf(stderr, "kafka_mock: cannot start the mock cluster\n");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, argv[i], atoi(argv[1]), 1);
		if (e) {
			fprintf(stderr, "kafka_mock: topic %s: %s\n", argv[i], rd_kafka_err2str(e));
			return 1;
		}
	}
	printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	int sig;
	sigwait(&sigs, &sig);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
