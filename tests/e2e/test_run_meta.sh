# What a run records about itself, and what it does when the store cannot keep it: the git
# commit and dirty flag of the working directory; a full disk under the database leaves the
# command untouched (its output and exit status) and the report says what was not stored.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN

if command -v git >/dev/null; then
	mkdir "$T/repo" && cd "$T/repo"
	git init -q . && echo a >f && git add f &&
		git -c user.name=t -c user.email=t@t commit -qm one
	head=$(git rev-parse HEAD)
	"$J" run --quiet --no-store --json "$T/clean.json" -- true
	echo b >f
	"$J" run --quiet --no-store --json "$T/dirty.json" -- true
	cd "$T"
	expect_py "git commit and dirty flag" "
import json
c=json.load(open('$T/clean.json'))['meta']; d=json.load(open('$T/dirty.json'))['meta']
assert c['git_commit']=='$head' and c['git_dirty'] is False, c
assert d['git_commit']=='$head' and d['git_dirty'] is True, d
assert c['user'] and c['host'] and c['kernel'] and c['cwd']=='$T/repo' and c['joulestream_version']
assert c['start'].endswith('Z') and c['end'] >= c['start'] and c['cpu_count']>0
"
else
	echo "skipped the git metadata case: git is not installed"
fi

# in a container the node's name comes from JOULESTREAM_HOST (the downward API), not uname
JOULESTREAM_HOST=node-7.example "$J" run --quiet --no-store --json "$T/host.json" -- true
expect_eq "JOULESTREAM_HOST names the host" "$(python3 -c "import json; print(json.load(open('$T/host.json'))['meta']['host'])")" \
	node-7.example
"$J" run --quiet --no-store --json "$T/host2.json" -- true
expect_eq "without it, the kernel's name" "$(python3 -c "import json; print(json.load(open('$T/host2.json'))['meta']['host'])")" \
	"$(uname -n)"

# a full disk: a 1 MiB tmpfs holds the database, then is filled to the last byte
if [ "$(id -u)" = 0 ] && mkdir "$T/full" && mount -t tmpfs -o size=1m tmpfs "$T/full" 2>/dev/null; then
	"$J" run --quiet --db "$T/full/j.db" -- true
	# the command fills the disk after it started, while samples are being written
	export FILLER=$T/full/filler
	"$J" run --db "$T/full/j.db" --interval 1ms -- sh -c 'dd if=/dev/zero of="$FILLER" bs=4k 2>/dev/null; i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); sleep 0.002; done; exit 7' >"$T/out" 2>"$T/err"
	expect_eq "exit status through a full disk" $? 7
	expect_eq "command output complete" "$(wc -l <"$T/out")" 300
	expect_in "the report says the store failed" "store failed" "$T/err"
	expect_in "the report is still printed" "IT energy (run)" "$T/err"
	expect_not_in "not claimed as stored" "stored as run" "$T/err"
	umount "$T/full"
else
	echo "skipped the full-disk case: needs root to mount a small tmpfs"
fi
finish
