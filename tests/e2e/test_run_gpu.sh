# `joulestream run` with a GPU, through the fake NVML library the tests build: a power-only
# GPU at a constant 300 W gives exactly 300 W x the run's duration; a GPU the command itself
# uses (its pid listed by the driver) is all the run's, an unused one is not; a GPU that
# vanishes mid-run is reported and the job is untouched.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
: "${JST_FAKE_NVML:?}"
export JOULESTREAM_NVML_LIB=$JST_FAKE_NVML FAKE_NVML_CONFIG=$T/nvml.conf
cat >"$FAKE_NVML_CONFIG" <<CONF
driver="550.54.15"
gpu 0 name="NVIDIA H100 80GB HBM3" uuid=GPU-0aaa energy=unsupported power_mw=300000 limit_mw=700000
CONF

check() { python3 -c "
import json,sys
r=json.load(open(sys.argv[1])); g=r['zones'][0]
$2" "$1"; }

# unused GPU: measured, not charged to the run
"$J" run --sensors nvml --zone FR --interval 100ms --json "$T/a.json" -- sleep 0.5 2>"$T/err"
expect_eq "exit" $? 0
expect_in "summary names the GPU" "gpu0 NVIDIA H100 80GB" "$T/err"
check "$T/a.json" "
assert g['source']=='nvml' and g['uid']=='GPU-0aaa' and g['kind']=='gpu', g
assert abs(g['energy_j']-300*r['duration_s'])<1e-6*g['energy_j'], (g['energy_j'],r['duration_s'])
assert g['run_energy_j']==0 and abs(g['peak_power_w']-300)<1e-9
assert r['meta']['gpus']=='1 x NVIDIA H100 80GB HBM3', r['meta']['gpus']
assert r['meta']['gpu_driver']=='NVIDIA 550.54.15', r['meta']['gpu_driver']
" ; expect_eq "constant 300 W integrates exactly, unused GPU not charged" $? 0

# the command puts itself on the GPU and only then does the GPU draw power: all the run's
sed -i 's/power_mw=300000/power_mw=0/' "$FAKE_NVML_CONFIG"
"$J" run --sensors nvml --zone FR --interval 100ms --json "$T/b.json" -- \
	sh -c 'sed "s/power_mw=0/power_mw=300000/" "$FAKE_NVML_CONFIG" >"$FAKE_NVML_CONFIG.new"
	       echo "proc 0 pid=$$ mem=1000 sm=90" >>"$FAKE_NVML_CONFIG.new"
	       mv "$FAKE_NVML_CONFIG.new" "$FAKE_NVML_CONFIG"; sleep 0.5' 2>"$T/err"
expect_eq "exit" $? 0
check "$T/b.json" "
assert abs(g['run_energy_j']-g['energy_j'])<1e-9*g['energy_j'], g
assert abs(r['totals']['energy_j']-g['energy_j'])<1e-9*g['energy_j'] and g['energy_j']>0
" ; expect_eq "GPU used only by the run is the run's" $? 0
sed -i '/^proc/d' "$FAKE_NVML_CONFIG"

# another user's process on the GPU: not the run's
echo "proc 0 pid=1 mem=1000 sm=50" >>"$FAKE_NVML_CONFIG"
"$J" run --sensors nvml --interval 100ms --json "$T/c.json" -- sleep 0.3 2>/dev/null
check "$T/c.json" "assert g['run_energy_j']==0, g"; expect_eq "other process's GPU not charged" $? 0
sed -i '/^proc/d' "$FAKE_NVML_CONFIG"

# the GPU vanishes mid-run: noted, the job's exit status untouched
"$J" run --sensors nvml --interval 50ms --json "$T/d.json" -- \
	sh -c 'sleep 0.3; sed -i "s/^gpu 0 /gpu 0 lost=1 /" "$FAKE_NVML_CONFIG"; sleep 0.3; exit 5' 2>"$T/err"
expect_eq "exit status through a vanished GPU" $? 5
expect_in "vanished GPU noted" "gpu0 (nvml) disappeared" "$T/err"
check "$T/d.json" "
assert g['vanished'] and g['energy_j']>0 and g['energy_j']<300*r['duration_s'], g
"; expect_eq "energy until the GPU vanished" $? 0

# sensors lists it
sed -i 's/^gpu 0 lost=1 /gpu 0 /' "$FAKE_NVML_CONFIG"
"$J" sensors >"$T/s" 2>&1
expect_in "sensors shows nvml active" "nvml      active" "$T/s"
finish
