# Attribution end to end with real processes: a CPU-bound grandchild that double-forks away
# from the command is still the run's (joulestream is the run's subreaper), so the run's share
# of the CPU zones is clearly above that of a command that only sleeps; shares never exceed
# the host's energy.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN

share() { # the run's share of the first counted CPU zone in a JSON record
	python3 -c "
import json,sys
r=json.load(open(sys.argv[1]))
z=[x for x in r['zones'] if x['counted'] and x['kind'] in ('package','dram')]
assert z, 'no CPU zone'
assert all(x['run_energy_j']<=x['energy_j']*(1+1e-9) for x in r['zones'])
print('%.3f' % z[0]['run_share'])" "$1"
}

# The grandchild writes its own CPU time (utime+stime+cutime+cstime, /proc/PID/stat fields
# 14-17, in clock ticks) when it is done; the run must have counted at least that much.
"$J" run --quiet --no-store --interval 50ms --json "$T/busy.json" -- \
	sh -c '(sh -c "end=\$((\$(date +%s)+2)); while [ \$(date +%s) -lt \$end ]; do :; done; cat /proc/\$\$/stat >'"$T"'/gc.stat" &); sleep 2.5'
expect_eq "busy run exit" $? 0
"$J" run --quiet --no-store --interval 50ms --json "$T/idle.json" -- sleep 2.5
expect_eq "idle run exit" $? 0
busy=$(share "$T/busy.json"); idle=$(share "$T/idle.json")
echo "run share of the CPU: double-forked busy child $busy, sleeping command $idle"
expect_py "the run counted the double-forked grandchild's CPU time" "
import json, os
st = open('$T/gc.stat').read()
f = st[st.rindex(')') + 2:].split()
gc = sum(int(x) for x in f[11:15]) / os.sysconf('SC_CLK_TCK')
run = json.load(open('$T/busy.json'))['totals']['cpu_time_s']
print('grandchild used %.2f s of CPU, the run counted %.2f s' % (gc, run))
assert gc > 0 and run >= gc - 0.02, (gc, run)
"
expect_py "busy share above the sleeping command's ($busy vs $idle)" "import sys; sys.exit(0 if $busy > $idle else 1)"

# --scope host charges the whole machine
"$J" run --quiet --no-store --scope host --interval 50ms --json "$T/host.json" -- sleep 0.3
expect_eq "host scope share" "$(share "$T/host.json")" "1.000"

# a process left running by the command is noted
"$J" run --no-store --interval 50ms -- sh -c '(sleep 1 &); exit 0' 2>"$T/err"
expect_in "leftover process noted" "still ran when it exited" "$T/err"
finish
