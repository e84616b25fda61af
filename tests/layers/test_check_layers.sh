# scripts/check-layers on fixture trees (tests/fixtures/layers/): a clean tree passes; a
# back-edge is named with its file, line and edge; an include cycle between headers, a folder
# in no layer, a public header with no folder and a peer cycle in the allow-list all fail.
# The real tree is checked by the test layers.check.
set -u
: "${JST_SOURCE_DIR:?JST_SOURCE_DIR must point at the source tree}"
CHECK="$JST_SOURCE_DIR/scripts/check-layers"
FIX="$JST_SOURCE_DIR/tests/fixtures/layers"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# run CASE ALLOW WANT-RC: the checker's exit status and its messages in $T/CASE.err
run() {
	local rc=0
	python3 "$CHECK" --root "$FIX/$1" --allow "$FIX/$2" >"$T/$1.out" 2>"$T/$1.err" || rc=$?
	if [ "$rc" = "$3" ]; then ok; else ko "$1: exit $rc, want $3"; sed 's/^/  | /' "$T/$1.err" >&2; fi
}
expect_in() {
	if grep -qF -- "$2" "$T/$1.err"; then ok; else ko "$1: '$2' not said:"; sed 's/^/  | /' "$T/$1.err" >&2; fi
}

run clean layers.allow 0
[ -s "$T/clean.err" ] && ko "clean: the checker said something: $(cat "$T/clean.err")" || ok

run backedge layers.allow 1
expect_in backedge 'src/base/base.c:3: forbidden include "joulestream/mid.h": base -> mid (mid is above base'

run cycle layers.allow 1
expect_in cycle 'src/mid/a.h: include cycle: src/mid/a.h:2 -> src/mid/b.h:2 -> src/mid/c.h:2 -> src/mid/a.h'

run unplaced layers.allow 1
expect_in unplaced 'src/extra/x.c: folder src/extra/ is in no layer'
expect_in unplaced "include/joulestream/lost.h: public header with no 'header' line"

cp -r "$FIX/clean" "$T/peer" && ln -s "$FIX/peer-cycle.allow" "$T/peer.allow"
rc=0
python3 "$CHECK" --root "$T/peer" --allow "$T/peer.allow" 2>"$T/peer.err" || rc=$?
[ "$rc" = 2 ] && ok || ko "peer cycle: exit $rc, want 2"
grep -qF 'the peer lines make a cycle: base -> mid -> base' "$T/peer.err" && ok || ko "peer cycle: $(cat "$T/peer.err")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
