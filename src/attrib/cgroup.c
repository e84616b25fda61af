/* Workload keys from procfs text (workload.h): pure parsers over (p, n). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "attrib/workload.h"

static bool hexc(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A pod UID after "pod" in a kubepods path: 8-4-4-4-12 with '-' (cgroupfs) or '_' (systemd). */
static int pod_uid(const char *p, size_t n, char *key, size_t keylen)
{
	for (size_t i = 0; i + 3 + 36 <= n; i++) {
		if (memcmp(p + i, "pod", 3) != 0)
			continue;
		const char *u = p + i + 3;
		char uid[37];
		bool good = true;
		for (size_t k = 0; k < 36 && good; k++) {
			char c = u[k];
			if (k == 8 || k == 13 || k == 18 || k == 23)
				good = c == '-' || c == '_', c = '-';
			else
				good = hexc(c);
			uid[k] = c;
		}
		if (!good)
			continue;
		uid[36] = '\0';
		snprintf(key, keylen, "pod:%s", uid);
		return 1;
	}
	return 0;
}

/* A 64-hex container id anywhere in the path (docker-ID.scope, cri-containerd-ID.scope,
 * crio-ID.scope, libpod-ID.scope, /docker/ID). */
static int container_id(const char *p, size_t n, char *key, size_t keylen)
{
	size_t run = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && hexc(p[i])) {
			run++;
			continue;
		}
		if (run == 64) {
			snprintf(key, keylen, "container:%.12s", p + i - 64);
			return 1;
		}
		run = 0;
	}
	return 0;
}

int jst__cgroup_workload(const char *p, size_t n, char *key, size_t keylen)
{
	/* each line is ID:CONTROLLERS:PATH; any line naming a pod or a container decides */
	const char *end = p + n;
	int found = 0;
	while (p < end && !found) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(le - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			size_t len = (size_t)(le - path);
			bool kube = len >= 8 && memmem(path, len, "kubepods", 8) != NULL;
			found = kube ? pod_uid(path, len, key, keylen) : 0;
			if (!found)
				found = container_id(path, len, key, keylen);
		}
		p = nl ? nl + 1 : end;
	}
	return found;
}

int jst__environ_run(const char *p, size_t n, char *key, size_t keylen)
{
	static const char name[] = "JOULESTREAM_RUN_ID=";
	const char *end = p + n;
	while (p < end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		const char *e = z ? z : end;
		size_t len = (size_t)(e - p);
		if (len > sizeof(name) - 1 && memcmp(p, name, sizeof(name) - 1) == 0) {
			const char *v = p + sizeof(name) - 1;
			size_t vl = len - (sizeof(name) - 1);
			for (size_t i = 0; i < vl; i++)
				if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z')))
					return 0;
			if (vl > 64)
				return 0;
			snprintf(key, keylen, "run:%.*s", (int)vl, v);
			return 1;
		}
		p = z ? z + 1 : end;
	}
	return 0;
}
