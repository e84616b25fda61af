# Nothing lost on upgrade (issue 11): tests/fixtures/store-0efd03d/ is a SQLite store written by
# the release before runs became events (commit 0efd03d: two runs, one with training marks and
# a reprocessed result, their samples in the old `samples` table), with each run's
# `show --format json` as that release printed it. This release opens a copy in place: `runs`
# lists both, `show` gives the same record (phases, epochs, results and record hash included),
# `verify` passes, `reprocess` adds a result, and a new run goes into the same file as events
# beside them.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
F=$JST_FIXTURES/store-0efd03d
DB=$T/old.db
cp "$F/joulestream.db" "$DB"
ids=($(cd "$F" && ls ./*.json | sed 's|^\./||; s|\.json$||' | sort))
expect_eq "two runs in the fixture" "${#ids[@]}" 2

"$J" runs --db "$DB" >"$T/runs.txt"
expect_eq "runs on the old store" $? 0
for id in "${ids[@]}"; do
	expect_in "runs lists $id" "$id" "$T/runs.txt"
	"$J" show "$id" --db "$DB" --format json >"$T/$id.json"
	expect_eq "show $id" $? 0
	python3 - "$F/$id.json" "$T/$id.json" <<'PY' && ok || ko "show $id: the record of the old release"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def close(x, y):
    return abs(x - y) <= 1e-12 * max(1.0, abs(x), abs(y))
def same(x, y, path):
    if isinstance(x, dict):
        for k in x:  # what this release adds is allowed, nothing may go
            assert isinstance(y, dict) and k in y, (path, k)
            same(x[k], y[k], path + "/" + k)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), (path, x, y)
        for i, (u, v) in enumerate(zip(x, y)):
            same(u, v, path + "/%d" % i)
    elif isinstance(x, float) and isinstance(y, (int, float)):
        assert close(x, y), (path, x, y)
    else:
        assert x == y, (path, x, y)
same(a, b, "")
PY
done
expect_py "the fixture's second run has its training record" "
import json
r = json.load(open('$T/${ids[1]}.json'))
assert [p['path'] for p in r['phases']] == ['(none)', 'train'] and len(r['epochs']) == 1, r['phases']
assert len(r['results']) == 2, r['results']"

"$J" verify --db "$DB" >"$T/verify.txt" 2>&1
expect_eq "verify on the old store" $? 0
expect_in "both sealed runs recomputed" "2 chain entries, 2 sealed runs recomputed" "$T/verify.txt"

"$J" reprocess "${ids[0]}" --zone SE --db "$DB" >/dev/null 2>&1
expect_eq "reprocess an old run" $? 0
"$J" show "${ids[0]}" --db "$DB" --format json >"$T/re.json"
expect_py "a result added, the run-time one kept" "
import json
r = json.load(open('$T/re.json'))['results']
assert sorted(x['zone'] for x in r) == ['DE', 'SE'], r"

# a new run in the same file: events, read back as a view, listed with the old ones
"$J" run --db "$DB" --zone DE --interval 50ms --quiet --json "$T/new.json" -- "$BURN" 0.2
expect_eq "a new run in the old store" $? 0
NID=$(python3 -c "import json; print(json.load(open('$T/new.json'))['id'])")
expect_eq "its events are in the log" "$(sqlite3 "$DB" "SELECT count(*) > 2 FROM ev_log WHERE run='$NID'")" 1
expect_eq "three runs listed" "$("$J" runs --db "$DB" | grep -c '^01')" 3
expect_eq "the fixture itself untouched" "$(cmp -s "$F/joulestream.db" "$DB"; echo $?)" 1
git -C "$JST_SOURCE_DIR" diff --quiet -- tests/fixtures/store-0efd03d 2>/dev/null
expect_eq "the checked-in fixture not modified" $? 0
finish
