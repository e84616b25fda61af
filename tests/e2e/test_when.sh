# When to train: `joulestream when` on the fixture forecasts (tests/fixtures/forecasts/) with
# --now, so every answer is known by hand: the best start and the saving against now (percent,
# gCO2e for --energy), ties to the earliest, a forecast with a gap said so and never used
# across it, a deadline shorter than the job refused clearly, interruptible chunks; and
# --exec: at once when the best time is now, after a countdown when it is 2 s ahead (only the
# order of events is checked, never a duration), nothing started when interrupted while
# waiting (130 for INT, 143 for TERM), the command's exit status passed through.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
F=$JST_FIXTURES/forecasts
NOW=2024-03-01T00:00:00Z

# de-hourly.csv: 3 h windows by 12:00 from 00:00: 280 ... 100 at 07:00 (the best)
"$J" when --zone DE --duration 3h --deadline 2024-03-01T12:00:00Z --forecast "$F/de-hourly.csv" \
	--now $NOW >"$T/out" 2>"$T/err"; expect_eq "when exit" $? 0
expect_in "best start" "best start: 2024-03-01T07:00:00Z (ends 2024-03-01T10:00:00Z): 100.0 gCO2e/kWh on average" "$T/out"
expect_in "compared starts" "10 starts compared, 1h apart (the forecast's step); no other as good" "$T/out"
expect_in "saving in percent" "saving against starting now: 64.3 % (280.0 -> 100.0 gCO2e/kWh)" "$T/out"
expect_in "per kWh with the PUE" "280.8 gCO2e per kWh of IT energy at PUE 1.56 (default)" "$T/out"
expect_in "forecast named" "forecast: file de-hourly.csv (file:de-hourly.csv@sha256:" "$T/out"
"$J" when --zone DE --duration 3h --deadline +12h --forecast "$F/de-hourly.csv" --now $NOW \
	--energy 120 --pue 1.2 --json >"$T/w.json"; expect_eq "json exit" $? 0
expect_py "json: best, now, saving for 120 kWh" "
import json; r = json.load(open('$T/w.json')); s = r['saving']
assert r['best'] == {'start': '2024-03-01T07:00:00Z', 'end': '2024-03-01T10:00:00Z', 'ci_g_per_kwh': 100}, r['best']
assert r['now_window']['ci_g_per_kwh'] == 280 and r['latest_end'] == '2024-03-01T12:00:00Z', r
assert r['pue'] == 1.2 and r['pue_source'] == 'given' and r['energy_kwh'] == 120
assert abs(s['percent'] - 180 / 280 * 100) < 1e-6, s
assert abs(s['co2e_g'] - 120 * 1.2 * 180) < 1e-6 and abs(s['now_co2e_g'] - 120 * 1.2 * 280) < 1e-6, s
assert r['forecast']['step_s'] == 3600 and r['forecast']['gaps'] == [] and r['ties'] == 1, r"

# ties: the earliest
"$J" when --zone DE --duration 2h --forecast "$F/ties.csv" --now $NOW --json >"$T/t.json"
expect_py "ties: earliest" "
import json; r = json.load(open('$T/t.json'))
assert r['best']['start'] == '2024-03-01T01:00:00Z' and r['ties'] == 2, r"
"$J" when --zone DE --duration 2h --forecast "$F/ties.csv" --now $NOW >"$T/out"
expect_in "ties said" "2 have that average: the earliest is chosen" "$T/out"

# a forecast with a gap: said, and no window across it (02:00's 50 does not stretch to 05:00)
"$J" when --zone DE --duration 2h --forecast "$F/gaps.csv" --now $NOW >"$T/out"; expect_eq "gaps exit" $? 0
expect_in "gap said" "gaps: the forecast misses points for its 1h step in 1 place (2h in all):" "$T/out"
expect_in "gap listed" "2024-03-01T03:00:00Z to 2024-03-01T05:00:00Z" "$T/out"
expect_in "gap treatment said" "a window that overlaps a gap is not a candidate (3 left out)" "$T/out"
expect_in "best outside the gap" "best start: 2024-03-01T05:00:00Z" "$T/out"
"$J" when --zone DE --duration 2h --forecast "$F/gaps.csv" --now $NOW --json >"$T/g.json"
expect_py "gaps in json" "
import json; f = json.load(open('$T/g.json'))['forecast']
assert f['gaps'] == [{'from': '2024-03-01T03:00:00Z', 'to': '2024-03-01T05:00:00Z'}] and f['windows_in_gaps'] == 3, f"
"$J" when --zone DE --duration 5h --forecast "$F/gaps.csv" --now $NOW 2>"$T/err"; expect_eq "no window outside gaps" $? 1
expect_in "no window: why" "every window of the job's length overlaps one of the forecast's 1 gaps" "$T/err"

# a deadline shorter than the job, and other mistakes
"$J" when --zone DE --duration 6h --deadline 2024-03-01T04:00:00Z --forecast "$F/de-hourly.csv" \
	--now $NOW 2>"$T/err"; expect_eq "short deadline" $? 2
expect_in "short deadline said" "the deadline 2024-03-01T04:00:00Z leaves 4h from now (2024-03-01T00:00:00Z), less than the job's 6h: move --deadline later or shorten --duration" "$T/err"
"$J" when --zone DE --duration 30h --forecast "$F/de-hourly.csv" --now $NOW 2>"$T/err"; expect_eq "too long for the forecast" $? 1
expect_in "forecast end said" "would end after the forecast's end (2024-03-02T00:00:00Z)" "$T/err"
"$J" when --zone DE --forecast "$F/de-hourly.csv" 2>"$T/err"; expect_eq "no duration" $? 2
"$J" when --zone DE --duration 1h 2>"$T/err"; expect_eq "no forecast" $? 2
"$J" when --duration 1h --forecast "$F/de-hourly.csv" 2>"$T/err"; expect_eq "no zone" $? 2
expect_in "no zone said" "say where the job runs" "$T/err"
"$J" when --zone FR --duration 1h --forecast "$F/de-hourly.csv" 2>"$T/err"; expect_eq "other zone's forecast" $? 2
expect_in "other zone said" "has no values for zone FR (its zones: DE)" "$T/err"
"$J" when --zone DE --duration 1h --deadline tomorrow --forecast "$F/de-hourly.csv" 2>"$T/err"; expect_eq "bad deadline" $? 2

# interruptible: the 3 cleanest hours by 12:00, in time order
"$J" when --zone DE --duration 3h --deadline 2024-03-01T12:00:00Z --forecast "$F/de-hourly.csv" \
	--now $NOW --interruptible --chunk 1h --json >"$T/i.json"; expect_eq "interruptible exit" $? 0
expect_py "chunks: 03, 07, 08" "
import json; r = json.load(open('$T/i.json'))
assert [c['start'] for c in r['chunks']] == ['2024-03-01T03:00:00Z', '2024-03-01T07:00:00Z', '2024-03-01T08:00:00Z'], r['chunks']
assert [c['ci_g_per_kwh'] for c in r['chunks']] == [95, 100, 90] and r['chunks_ci_g_per_kwh'] == 95, r
assert abs(r['saving']['percent'] - 185 / 280 * 100) < 1e-6, r['saving']"
"$J" when --zone DE --duration 3h --forecast "$F/de-hourly.csv" --now $NOW --chunk 1h 2>"$T/err"
expect_eq "--chunk without --interruptible refused" $? 2
expect_in "--chunk: why" "give --interruptible too" "$T/err"
"$J" when --zone DE --duration 3h --forecast "$F/de-hourly.csv" --now $NOW --interruptible --chunk 2h 2>"$T/err"
expect_eq "chunk not dividing" $? 2
expect_in "chunk said" "not a whole number of chunks of 2h" "$T/err"

# --exec when the best time is now: at once, under joulestream run, exit status passed through
"$J" when --zone DE --duration 2s --forecast "$F/now-best.csv" --now $NOW \
	--exec -- sh -c 'echo ran >"$0"; exit 3' "$T/ran-now" >"$T/out" 2>"$T/err"
expect_eq "exec exit status passed through" $? 3
[ -f "$T/ran-now" ]; expect_eq "command ran" $? 0
expect_in "final line" "joulestream when: starting now (2024-03-01T00:00:00Z): joulestream run --zone DE -- sh -c" "$T/err"
expect_not_in "no countdown when now is best" "starting in" "$T/err"
expect_in "run's report" "exit 3" "$T/err"

# --exec RUN-OPTIONS -- CMD: run's own options (--db, --json, ...) pass through, checked before
"$J" when --zone DE --duration 2s --forecast "$F/now-best.csv" --now $NOW \
	--exec --db "$T/exec.db" --json "$T/exec.json" --project exec-test -- true >"$T/out" 2>"$T/err"
expect_eq "exec with run options" $? 0
expect_in "run options on the final line" "joulestream run --zone DE --db $T/exec.db --json $T/exec.json --project exec-test -- true" "$T/err"
expect_py "run wrote its JSON, in the zone of the plan" "
import json; r = json.load(open('$T/exec.json'))
assert r['site']['zone'] == 'DE' and r['meta']['project'] == 'exec-test', (r['site'], r['meta'])"
"$J" runs --db "$T/exec.db" >"$T/runs"
expect_in "run stored in --db" "$(python3 -c "import json; print(json.load(open('$T/exec.json'))['id'])")" "$T/runs"
"$J" when --zone DE --duration 2s --forecast "$F/now-best.csv" --now $NOW \
	--exec --interval nonsense -- touch "$T/bad-ran" >"$T/out" 2>"$T/err"
expect_eq "bad run option refused" $? 2
[ ! -e "$T/bad-ran" ]; expect_eq "bad run option: nothing ran" $? 0
expect_in "bad run option: run's message" "bad --interval" "$T/err"
"$J" when --zone DE --duration 2s --forecast "$F/now-best.csv" --now $NOW --exec --zone FR -- true 2>"$T/err"
expect_eq "where is when's own option" $? 2
expect_in "where: why" "give --zone to when, before --exec" "$T/err"
"$J" when --zone DE --duration 2s --forecast "$F/now-best.csv" --now $NOW --exec --db "$T/x.db" true 2>"$T/err"
expect_eq "run options need --" $? 2

# --exec 2 s ahead (seconds.csv: 500 500 100 ...): a countdown line, then the start, then the command
"$J" when --zone DE --duration 2s --forecast "$F/seconds.csv" --now $NOW \
	--exec -- sh -c 'echo COMMAND-RAN >&2' >"$T/out" 2>"$T/err"; expect_eq "exec ahead exit" $? 0
expect_in "best is 2 s ahead" "best start: 2024-03-01T00:00:02Z" "$T/out"
expect_py "order: countdown, start, command" "
lines = open('$T/err').read().splitlines()
find = lambda s: next(i for i, l in enumerate(lines) if s in l)
a = find('joulestream when: starting in 2s, at 2024-03-01T00:00:02Z')
b = find('joulestream when: starting now (2024-03-01T00:00:02Z)')
c = lines.index('COMMAND-RAN')  # the command's own line, not the one naming it
assert a < b < c, (a, b, c, lines)"

# interrupted while waiting: a message, 130 or 143, nothing started
cat >"$T/interrupt.py" <<'PY'
import os, signal, subprocess, sys
jst, forecast, marker, signame = sys.argv[1:5]
nohup = signame == "HUP-IGNORED"  # like nohup: HUP ignored, then TERM
p = subprocess.Popen([jst, "when", "--zone", "DE", "--duration", "2s", "--forecast", forecast,
                      "--now", "2024-02-29T23:00:00Z", "--exec", "--", "touch", marker],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                     # a background job may inherit INT ignored: the test wants it delivered
                     preexec_fn=lambda: [signal.signal(s, signal.SIG_IGN if nohup and s == signal.SIGHUP
                                                       else signal.SIG_DFL)
                                         for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)])
first = p.stderr.readline()  # the countdown's first line: the wait has begun
assert "starting in 1h" in first, first
if nohup:
    p.send_signal(signal.SIGHUP)  # sigtimedwait would take it before TERM if it were not ignored
p.send_signal(signal.SIGTERM if nohup else getattr(signal, signame))
try:
    rest = p.communicate(timeout=120)[1]  # a guard against a hang, not a measurement
except subprocess.TimeoutExpired:
    p.kill()
    rest = "did not stop after the signal\n"
print(p.returncode)
print(rest, end="")
PY
python3 "$T/interrupt.py" "$J" "$F/seconds.csv" "$T/never" SIGINT >"$T/int" 2>&1
expect_eq "SIGINT while waiting: 130" "$(head -1 "$T/int")" 130
expect_in "SIGINT said" "interrupted (SIGINT) while waiting for 2024-03-01T00:00:02Z: nothing was started" "$T/int"
python3 "$T/interrupt.py" "$J" "$F/seconds.csv" "$T/never" SIGTERM >"$T/term" 2>&1
expect_eq "SIGTERM while waiting: 143" "$(head -1 "$T/term")" 143
expect_in "SIGTERM said" "terminated (SIGTERM)" "$T/term"
python3 "$T/interrupt.py" "$J" "$F/seconds.csv" "$T/never" HUP-IGNORED >"$T/hup" 2>&1
expect_eq "HUP ignored as under nohup, then TERM: 143" "$(head -1 "$T/hup")" 143
[ ! -e "$T/never" ]; expect_eq "nothing started after an interruption" $? 0

"$J" when --zone DE --duration 2h --forecast "$F/de-hourly.csv" --interruptible --exec -- true 2>"$T/err"
expect_eq "exec with chunks refused" $? 2
"$J" when --zone DE --duration 2h --forecast "$F/de-hourly.csv" --exec 2>"$T/err"; expect_eq "exec without a command" $? 2
finish
