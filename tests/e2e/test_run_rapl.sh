# `joulestream run` on a RAPL fixture tree (--sysfs-root) whose counters the command itself
# advances: exact energies per zone, a wrap in the middle of the run handled with
# max_energy_range_uj, zones named from their name files, and an unreadable counter explained
# with the fix while the estimate stands in.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
P=$R/sys/class/powercap
# intel-rapl:1 is package-0, intel-rapl:0 is package-1 (indexes lie on purpose)
pkg0=$P/intel-rapl:1/energy_uj pkg1=$P/intel-rapl:0/energy_uj
max1=$(cat "$P/intel-rapl:0/max_energy_range_uj")
v0=$(cat "$pkg0")
echo $((max1 - 1000000)) >"$pkg1"   # package-1 sits 1 J below its wrap

# roots as containers mount them: the mounted /sys itself (--sysfs-root /host/sys, as
# node_exporter and Kepler take it) finds the same zones as the folder that holds sys/; a mount
# of another name, or a folder holding neither, is an error that says what was expected
"$J" sensors --sysfs-root "$R" --sensors rapl >"$T/s1.out" 2>&1
"$J" sensors --sysfs-root "$R/sys" --sensors rapl >"$T/s2.out" 2>&1
expect_eq "--sysfs-root …/sys: exit" $? 0
expect_eq "--sysfs-root …/sys finds the same zones" "$(cat "$T/s2.out")" "$(cat "$T/s1.out")"
expect_in "…and they are RAPL's" "package-0" "$T/s2.out"
"$J" sensors --sysfs-root "$R/sys/" --procfs-root /proc/ --sensors rapl >"$T/s3.out" 2>&1
expect_eq "trailing slashes, and the host's /proc itself" "$(cat "$T/s3.out")" "$(cat "$T/s1.out")"
(cd "$R" && "$J" sensors --sysfs-root sys --sensors rapl) >"$T/s4.out" 2>&1
expect_eq "a relative mount (sys, from its parent)" "$(cat "$T/s4.out")" "$(cat "$T/s1.out")"
ln -s "$R/sys" "$T/hostsys"
"$J" run --sysfs-root "$T/hostsys" --no-store -- touch "$T/ran-hostsys" 2>"$T/err"
expect_eq "a sysfs mount not named sys: exit" $? 2
expect_in "…says how to mount it" "is a /sys mount not named sys" "$T/err"
[ ! -e "$T/ran-hostsys" ]; expect_eq "…before the command starts" $? 0
mkdir "$T/empty"
"$J" sensors --sysfs-root "$T/empty" 2>"$T/err"
expect_eq "a root holding neither: exit" $? 2
expect_in "…says what was expected" "holds neither sys/ nor a /sys tree" "$T/err"
"$J" agent --procfs-root "$T/empty" --listen 127.0.0.1:0 2>"$T/err" </dev/null
expect_eq "agent: a procfs root holding neither: exit" $? 2
expect_in "…says what was expected" "--procfs-root $T/empty holds neither proc/" "$T/err"

export pkg0 pkg1 v0
"$J" run --sysfs-root "$R" --sensors rapl --scope host --interval 50ms --zone DE \
	--json "$T/r.json" -- sh -c 'sleep 0.2; echo $((v0 + 5000000)) >"$pkg0"; echo 2000000 >"$pkg1"; sleep 0.3' 2>"$T/err"
expect_eq "exit" $? 0
expect_py "exact energies, wrap handled" "
import json
r = json.load(open('$T/r.json'))
z = {x['name']: x for x in r['zones']}
assert set(z) == {'package-0', 'package-1', 'dram-0', 'dram-1'}, sorted(z)
assert abs(z['package-0']['energy_j'] - 5.0) < 1e-9, z['package-0']
# (max - (max - 1e6)) + 2e6 + 1 µJ across the wrap
assert abs(z['package-1']['energy_j'] - 3.000001) < 1e-9, z['package-1']
assert z['package-1']['wraps'] == 1 and z['package-0']['wraps'] == 0
assert z['dram-0']['energy_j'] == 0 and z['dram-0']['source'] == 'rapl'
assert abs(r['totals']['energy_j'] - 8.000001) < 1e-9 and r['totals']['estimate'] is False
assert abs(r['totals']['co2e_g'] - 8.000001 / 3.6e6 * r['site']['pue'] * r['site']['ci_g_per_kwh']) < 1e-6 * r['totals']['co2e_g'] + 1e-12, r['totals']
"
expect_in "summary lists package-0 from rapl" "package-0        rapl" "$T/err"
expect_not_in "no estimate with RAPL" "[estimate]" "$T/err"

# unreadable energy_uj (root-only since Linux 5.10): explained, and the estimate stands in
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ] && nobody "$J" --version >/dev/null 2>&1; then
	chmod 755 "$T"
	chmod -R a+rX "$R"
	chmod 000 "$pkg0"
	nobody "$J" sensors --sysfs-root "$R" >"$T/s" 2>&1
	expect_in "forbidden backend" "rapl      forbidden" "$T/s"
	expect_in "the reason names the CVE" "CVE-2020-8694" "$T/s"
	expect_in "the estimate stands in" "estimate  active" "$T/s"
	nobody "$J" run --no-store --sysfs-root "$R" -- true 2>"$T/err"
	expect_eq "run without permission still runs the command" $? 0
	expect_in "run falls back to the estimate" "[estimate]" "$T/err"
else
	echo "skipped the unreadable-counter case: needs root, setpriv, and a build that uid 65534 can run"
fi
finish
