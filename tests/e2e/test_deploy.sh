#!/usr/bin/env bash
# The deployment files against the program they deploy (nothing here can pull an image or run
# Kubernetes, so what is checked is what can drift): every manifest in deploy/kubernetes/
# parses; each container's subcommand and every --option it passes is one the program's usage
# lists; every variable it sets is one the program (or libpq, or the NVIDIA toolkit) reads, and
# every $(VAR) in its arguments is set; the probes ask paths serve answers. The Containerfile
# installs only packages Debian 12 has, and its runtime stage holds the package of every
# library the program links or loads with dlopen (NVML excepted: the host's driver gives it).
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
S=${JST_SOURCE_DIR:?}
for sub in agent serve; do "$J" "$sub" --help >"$T/help-$sub.txt" 2>&1; done
strings "$J" >"$T/strings.txt"

python3 - "$S" "$T" <<'EOF' >"$T/manifests.txt" 2>&1
import glob, re, sys, yaml
src, tmp = sys.argv[1], sys.argv[2]
strings = open(f"{tmp}/strings.txt").read().split("\n")
external = {"PGPASSWORD", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"}
bad, seen = [], 0
for path in sorted(glob.glob(f"{src}/deploy/kubernetes/*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if not doc or doc.get("kind") not in ("Deployment", "DaemonSet"):
            continue
        for c in doc["spec"]["template"]["spec"]["containers"]:
            seen += 1
            where = f"{path.split('/')[-1]} {c['name']}"
            if not c["image"].startswith("joulestream:"):
                bad.append(f"{where}: image {c['image']}")
            args = c.get("args", [])
            sub = args[0]
            usage = open(f"{tmp}/help-{sub}.txt").read()
            for a in args[1:]:
                flag = a.split("=", 1)[0]
                if not re.search(re.escape(flag) + r"\b", usage):
                    bad.append(f"{where}: {flag} is not in `joulestream {sub} --help`")
            env = {e["name"] for e in c.get("env", [])}
            # a variable given only for $(VAR) in the arguments (Kubernetes expands it) is not
            # the program's to read
            expanded = {ref for a in args for ref in re.findall(r"\$\((\w+)\)", a)}
            for name in env - external - expanded:
                if name not in strings:
                    bad.append(f"{where}: the program reads no variable {name}")
            for a in args:
                for ref in re.findall(r"\$\((\w+)\)", a):
                    if ref not in env:
                        bad.append(f"{where}: $({ref}) in {a} is not set in env")
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe, {}).get("httpGet")
                if p and p["path"] not in strings:
                    bad.append(f"{where}: {probe} asks {p['path']}, which serve does not answer")
print(f"containers checked: {seen}")
for b in bad:
    print("BAD", b)
EOF
expect_in "manifests: the agent and serve containers checked" "containers checked: 2" "$T/manifests.txt"
expect_not_in "manifests: nothing drifted from the program" "BAD" "$T/manifests.txt"
grep BAD "$T/manifests.txt" >&2

# The Containerfile's packages, stage by stage (the continuation lines of each RUN apt-get install)
python3 - "$S/Containerfile" <<'EOF' >"$T/pkgs.txt"
import re, sys
stages, cur = [], None
for line in open(sys.argv[1]).read().replace("\\\n", " ").split("\n"):
    if line.startswith("FROM "):
        cur = []
        stages.append(cur)
    m = re.search(r"apt-get install -y --no-install-recommends (.*?)(&&|$)", line)
    if m and cur is not None:
        cur += m.group(1).split()
for i, s in enumerate(stages):
    print(i, " ".join(s))
EOF
expect_eq "Containerfile: two stages with packages" "$(wc -l <"$T/pkgs.txt")" 2
runtime=$(awk '$1 == 1 { $1 = ""; print }' "$T/pkgs.txt")
if apt-cache show bash >/dev/null 2>&1; then
	# one call for all (it fails when any is missing); then one call each, to name it
	if apt-cache show --no-all-versions $(cut -d' ' -f2- "$T/pkgs.txt") >/dev/null 2>&1; then
		ok
	else
		for p in $(cut -d' ' -f2- "$T/pkgs.txt"); do
			apt-cache show "$p" >/dev/null 2>&1 || ko "Containerfile: no Debian package $p here"
		done
	fi
else
	echo "note: apt-cache has no package lists here; the package names were not checked"
fi
# the libraries: linked (ldd) and loaded by name (the sonames in the program's strings)
libs=$(
	ldd "$J" | awk '$3 ~ /^\// { print $1 }'
	grep -E '^lib[a-z0-9_+-]+\.so\.[0-9]+$' "$T/strings.txt"
)
ldconfig -p >"$T/ldconfig.txt"
files=()
for l in $(printf '%s\n' $libs | sort -u); do
	# the C library, the host's NVML, and the compiler's runtimes a sanitizer build links
	case $l in libc.so.* | libm.so.* | libnvidia-ml.so.* | ld-linux* | libasan.* | libubsan.* | libtsan.* | \
		libstdc++.* | libgcc_s.*) continue ;; esac
	f=$(awk -v l="$l" '$1 == l { print $NF; exit }' "$T/ldconfig.txt")
	[ -n "$f" ] || { ko "library $l is not installed here (scripts/install-deps)"; continue; }
	files+=("$(readlink -f "$f")")
done
# one dpkg -S for all the files: "package:arch: /path" per line
dpkg -S "${files[@]}" 2>/dev/null | sed 's/:[^ ]*: / /' >"$T/owners.txt"
checked=0
for f in "${files[@]}"; do
	pkg=$(awk -v f="$f" '$2 == f { print $1; exit }' "$T/owners.txt")
	l=$(basename "$f")
	[ -n "$pkg" ] || { ko "no package owns $f"; continue; }
	case " $runtime " in
	*" $pkg "*) checked=$((checked + 1)) ;;
	*) ko "Containerfile: the runtime stage lacks $pkg (for $l)" ;;
	esac
done
expect_eq "Containerfile: every library's package is in the runtime stage (7 libraries)" "$checked" 7
finish
