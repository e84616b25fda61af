# The data refresh path (scripts/refresh-data): the bundled tables that come from published
# files equal what the scripts generate from ../shared/data; a changed published figure is a
# reported difference (exit 1, a diff naming the table and the row), and a rewrite makes the
# check pass again, touching only that row. Skipped (77), with the reason, where ../shared/data
# is absent, as unit.test_carbon.shared_data is.
. "$(dirname "$0")/lib.sh"
SRC=${JST_SOURCE_DIR:?}
SHARED=${JST_SHARED_DATA:-$SRC/../shared/data}
if [ ! -f "$SHARED/generation-mix-owid.json" ]; then
	echo "SKIP: no published files in $SHARED (a clone without ../shared/data)"
	exit 77
fi
python3 "$SRC/scripts/refresh-data" --check --shared "$SHARED" >"$T/out" 2>&1
expect_eq "committed tables equal the generated ones" $? 0
expect_in "generation mix checked" "ok: data/generation_mix.csv equals the output of scripts/gen-generation-mix.py" "$T/out"
expect_in "grid intensity checked" "ok: data/grid_intensity.csv equals" "$T/out"
expect_in "cloud regions checked" "ok: data/cloud_regions.csv equals" "$T/out"

# a new release of a published file: Germany's coal doubled -> the check fails on that row
mkdir -p "$T/shared" "$T/repo/scripts" "$T/repo/data"
cp "$SHARED"/*.json "$T/shared/"
cp "$SRC"/scripts/refresh-data "$SRC"/scripts/gen-*.py "$T/repo/scripts/"
cp "$SRC"/data/*.csv "$T/repo/data/"
python3 - "$T/shared/generation-mix-owid.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); de = d["countries"]["DEU"]
de["coal_TWh"] *= 2; de["total_TWh"] += de["coal_TWh"] / 2
json.dump(d, open(sys.argv[1], "w"))
PY
python3 "$T/repo/scripts/refresh-data" --check --shared "$T/shared" >"$T/out" 2>"$T/err"
expect_eq "a changed published figure fails the check" $? 1
expect_in "the diff names the table" "+++ data/generation_mix.csv (scripts/gen-generation-mix.py)" "$T/out"
expect_in "the diff shows the new row" "+DE,2023," "$T/out"
expect_in "what to do" "run scripts/refresh-data and commit the reviewed diff" "$T/err"
python3 "$T/repo/scripts/refresh-data" --shared "$T/shared" >"$T/out" 2>&1
expect_eq "refresh rewrites" $? 0
expect_in "rewrite said" "rewrote data/generation_mix.csv" "$T/out"
diff "$SRC/data/generation_mix.csv" "$T/repo/data/generation_mix.csv" >"$T/diff"
expect_py "only Germany's row and the world's sum changed" "
rows = [l[2:].split(',')[0] for l in open('$T/diff') if l[:2] in ('< ', '> ')]
assert sorted(set(rows)) == ['DE', 'WORLD'], rows"
python3 "$T/repo/scripts/refresh-data" --check --shared "$T/shared" >/dev/null 2>&1
expect_eq "after the rewrite the check passes" $? 0
finish
