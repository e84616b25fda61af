# Integrity flags provoked for real, each checked in the text report, the JSON record and
# `runs --flagged`: a RAPL fixture counter the command moves backwards with no known range, a
# counter that only becomes readable mid-run, a fake NVML GPU above its power limit, one that
# fails for a while, one that fails to the end and one that vanishes, a sampling gap made by
# stopping joulestream with SIGSTOP, a wall-clock step made with libfaketime, and a run measured
# only by the estimate on this machine.
# A clean fixture run carries no flag.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
DB=$T/db
: "${JST_FAKE_NVML:?}"
flags() { python3 -c "
import json,sys
r=json.load(open(sys.argv[1])); g=r['integrity']
print(' '.join(sorted(f['kind']+(':'+f['zone'] if f['zone'] else '') for f in g['flags'])))" "$1"; }

R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
P=$R/sys/class/powercap
export pkg0=$P/intel-rapl:1/energy_uj
rapl() { "$J" run --db "$DB" --sysfs-root "$R" --sensors rapl --scope host --interval 100ms --zone DE "$@"; }

# a clean run: no flag anywhere
v0=$(cat "$pkg0")
export v0
rapl --json "$T/clean.json" -- sh -c 'sleep 0.2; echo $((v0 + 2000000)) >"$pkg0"; sleep 0.2' 2>"$T/err"
expect_eq "clean run exit" $? 0
expect_eq "clean run: no flag" "$(flags "$T/clean.json")" ""
expect_not_in "clean text has no integrity line" "integrity:" "$T/err"
"$J" runs --db "$DB" --flagged >"$T/list"
expect_in "runs --flagged says none is flagged" "(no flagged run among 1)" "$T/list"

# the counter restarts (a driver reload) far from the top of its known range: read as a wrap,
# the drop would be ~262 kJ in 0.1 s against the package's 205 W. It is a reset: flagged, its
# interval unknown (none of it invented), the energy before and after it counted
v0=$(cat "$pkg0")
export v0
rapl --json "$T/reset.json" -- sh -c 'sleep 0.2; echo $((v0 + 1000000)) >"$pkg0"; sleep 0.3; echo 1000 >"$pkg0"; sleep 0.3; echo 3001000 >"$pkg0"; sleep 0.2' 2>"$T/err"
expect_eq "reset: flagged" "$(flags "$T/reset.json")" "counter_reset:package-0"
expect_in "reset: the text says why" "flag counter_reset package-0: package-0's counter restarted 1 time" "$T/err"
expect_py "reset: 1 J before and 3 J after, no wrap counted" "
import json; r = json.load(open('$T/reset.json'))
z = {x['name']: x for x in r['zones']}['package-0']
assert abs(z['energy_j'] - 4.0) < 1e-9, z
assert z.get('wraps', 0) == 0, z"

# the counter goes back and its range is unknown
rm "$P/intel-rapl:1/max_energy_range_uj"
rapl --json "$T/back.json" -- sh -c 'sleep 0.2; echo 1000 >"$pkg0"; sleep 0.2; echo 3001000 >"$pkg0"; sleep 0.2' 2>"$T/err"
expect_eq "backwards: flagged" "$(flags "$T/back.json")" "counter_backwards:package-0"
expect_in "backwards: the text says why" "flag counter_backwards package-0: package-0's counter went back 1 time with no known range" "$T/err"
expect_py "backwards: JSON count and reason" "
import json; f = json.load(open('$T/back.json'))['integrity']['flags'][0]
assert f['count'] == 1 and f['seconds'] > 0 and 'no known range' in f['reason'], f"

# a counter unreadable at the start, readable from 0.5 s on: it appeared mid-run
echo garbage >"$pkg0"
rapl --json "$T/late.json" -- sh -c 'sleep 0.5; echo 7000000 >"$pkg0"; sleep 0.3; echo 9000000 >"$pkg0"; sleep 0.2' 2>"$T/err"
expect_eq "appeared: flagged" "$(flags "$T/late.json")" "sensor_appeared:package-0"
expect_in "appeared: the text says when" "package-0 gave its first valid reading" "$T/err"

# GPUs through the fake NVML library
export JOULESTREAM_NVML_LIB=$JST_FAKE_NVML FAKE_NVML_CONFIG=$T/nvml.conf
gpu() { "$J" run --db "$DB" --sensors nvml --scope host --zone FR --interval 100ms "$@"; }
echo 'gpu 0 name="NVIDIA H100" uuid=GPU-0 energy=unsupported power_mw=900000 limit_mw=300000' >"$FAKE_NVML_CONFIG"
gpu --json "$T/hot.json" -- sleep 1.5 2>"$T/err"
expect_eq "above the power limit: flagged" "$(flags "$T/hot.json")" "power_out_of_range:gpu0"
expect_in "power: the text names the limit" "gpu0 averaged up to 900 W over 1 s windows, above its limit 300 W x 1.2" "$T/err"
expect_py "power: JSON value and limit" "
import json; f = json.load(open('$T/hot.json'))['integrity']['flags'][0]
assert abs(f['value'] - 900) < 1e-6 and abs(f['limit'] - 375) < 1e-9 and f['count'] >= 1, f"

# the fake re-reads its file at every call: rewrite it atomically (a half-written file has no
# GPU line, which the fake answers with "GPU is lost")
ok_gpu='gpu 0 name="NVIDIA H100" uuid=GPU-0 energy=unsupported power_mw=200000 limit_mw=300000'
echo "$ok_gpu" >"$FAKE_NVML_CONFIG"
export ok_gpu
gpu --json "$T/gap.json" -- sh -c 'sleep 0.3; echo "$ok_gpu error=999" >"$FAKE_NVML_CONFIG.new"
	mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"; sleep 0.6
	echo "$ok_gpu" >"$FAKE_NVML_CONFIG.new"; mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"; sleep 1.5' 2>"$T/err"
expect_eq "GPU failing for a while: a sensor gap" "$(flags "$T/gap.json")" "sensor_gap:gpu0"
expect_in "sensor gap: the text says how the energy was kept" "energy across it is interpolated from power" "$T/err"

gpu --json "$T/fail.json" -- sh -c 'sleep 0.3; echo "$ok_gpu error=999" >"$FAKE_NVML_CONFIG.new"
	mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"; sleep 0.8' 2>"$T/err"
expect_eq "GPU failing to the end: sensor_failed" "$(flags "$T/fail.json")" "sensor_failed:gpu0"

echo "$ok_gpu" >"$FAKE_NVML_CONFIG"
gpu --json "$T/gone.json" -- sh -c 'sleep 0.3; echo "$ok_gpu lost=1" >"$FAKE_NVML_CONFIG.new"
	mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"; sleep 0.5' 2>"$T/err"
expect_eq "GPU vanishing: sensor_gone" "$(flags "$T/gone.json")" "sensor_gone:gpu0"
expect_in "gone: the text says when" "gpu0 (nvml) disappeared" "$T/err"

# a gap: joulestream itself is stopped for a second while the command runs on
echo "$ok_gpu" >"$FAKE_NVML_CONFIG"
"$J" run --db "$DB" --sensors nvml --scope host --zone FR --interval 100ms --json "$T/stop.json" \
	-- sleep 2.5 2>"$T/err" &
jpid=$!
sleep 0.5
kill -STOP $jpid
sleep 1
kill -CONT $jpid
wait $jpid
expect_eq "SIGSTOP: exit" $? 0
expect_in "SIGSTOP: the gap is flagged" "gap" "$(flags "$T/stop.json" >"$T/f"; echo "$T/f")"
expect_py "SIGSTOP: the longest interval covers the stop" "
import json; g = [f for f in json.load(open('$T/stop.json'))['integrity']['flags'] if f['kind'] == 'gap'][0]
assert g['value'] >= 1.0 and abs(g['limit'] - 0.3) < 1e-9 and g['count'] >= 1, g"

# this machine's estimate (no RAPL here): measured only by estimate
"$J" run --db "$DB" --sensors estimate --interval 100ms --json "$T/est.json" -- sleep 0.3 2>"$T/err"
expect_eq "estimate: flagged" "$(flags "$T/est.json")" "estimate"
expect_in "estimate: the text says so" "measured only by estimate" "$T/err"

# the wall clock steps an hour forward mid-run (libfaketime fakes CLOCK_REALTIME only; the
# monotonic clock stays true): a clock jump
FT=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
nflagged=9
if [ -n "$FT" ]; then
	echo "+0" >"$T/offset"
	ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0" LD_PRELOAD=$FT FAKETIME_DONT_FAKE_MONOTONIC=1 \
		FAKETIME_TIMESTAMP_FILE=$T/offset FAKETIME_NO_CACHE=1 \
		"$J" run --db "$DB" --sysfs-root "$R" --sensors rapl --scope host --interval 100ms --zone DE \
		--json "$T/clock.json" -- sh -c "sleep 0.5; echo +1h >$T/offset; sleep 0.5" 2>"$T/err"
	expect_eq "clock jump: flagged" "$(flags "$T/clock.json")" "clock_jump"
	expect_py "clock jump: an hour" "
import json; f = json.load(open('$T/clock.json'))['integrity']['flags'][0]
assert f['count'] == 1 and 3599 < f['value'] < 3601 and f['limit'] == 0.05, f"
	nflagged=10
else
	echo "skipped the clock jump: libfaketime is not installed (scripts/install-deps)"
fi

# the store keeps them: runs --flagged lists every flagged run with its flags, show repeats them
"$J" runs --db "$DB" --flagged >"$T/list"
for k in counter_reset counter_backwards sensor_appeared power_out_of_range sensor_gap sensor_failed sensor_gone gap estimate; do
	expect_in "runs --flagged lists $k" "    flag $k" "$T/list"
done
expect_eq "runs --flagged lists the flagged runs, not the clean one" "$(grep -c '^[0-9A-Z]\{26\}' "$T/list")" $nflagged
id=$(python3 -c "import json; print(json.load(open('$T/hot.json'))['id'])")
"$J" show "$id" --db "$DB" --format json >"$T/show.json"
expect_eq "show --format json: the stored flags" "$(flags "$T/show.json")" "power_out_of_range:gpu0"
"$J" show "$id" --db "$DB" --format model-card >"$T/card"
expect_in "model card: the flags travel with the figure" "integrity flags: power_out_of_range:gpu0" "$T/card"
"$J" show "$id" --db "$DB" --format boamps >"$T/boamps.json"
expect_py "BoAmps: a flagged measured run is medium quality" "
import json; assert json.load(open('$T/boamps.json'))['quality'] == 'medium'"
finish
