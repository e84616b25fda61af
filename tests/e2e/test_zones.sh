# Zones and cloud regions from the command line, and a run placed with --cloud: the grid zone,
# PUE and WUE come from the region and the report names their source; unknown codes fail
# before the command starts.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN

"$J" zones de >"$T/z"; expect_eq "zones exit" $? 0
expect_eq "exact code first" "$(sed -n 2p "$T/z" | awk '{print $1, $2}')" "DE Germany"
expect_in "source named" "Ember 2024 yearly average" "$T/z"
"$J" zones --json fra >"$T/z.json"
expect_py "zones --json parses, France first" "
import json; z=json.load(open('$T/z.json')); assert z[0]['code']=='FR' and z[0]['ci_g_per_kwh']>0, z[0]"
"$J" zones no-such-zone-xyz 2>"$T/err"; expect_eq "unknown query" $? 1
expect_in "unknown query message" "no zone matches" "$T/err"
"$J" zones --cloud aws:eu-central-1 >"$T/c"; expect_eq "cloud lookup" $? 0
expect_in "cloud region row" "eu-central-1" "$T/c"

"$J" run --no-store --cloud aws:eu-central-1 --interval 50ms --json "$T/r.json" -- true 2>"$T/err"
expect_eq "cloud run exit" $? 0
expect_py "cloud run takes zone, PUE and WUE from the region" "
import json; s=json.load(open('$T/r.json'))['site']
assert s['zone']=='DE' and s['zone_origin']=='cloud region' and s['cloud']=='aws:eu-central-1', s
assert s['pue']==1.14 and s['wue_l_per_kwh']==0.18 and 'AWS' in s['pue_source'] and s['wue_source']==s['pue_source'], s"
expect_not_in "no world-average warning with a cloud region" "WORLD AVERAGE" "$T/err"
"$J" run --no-store --cloud aws:eu-central-1 --zone FR --pue 1.3 --wue 0 --json "$T/r2.json" -- true 2>/dev/null
expect_py "options override the region" "
import json; s=json.load(open('$T/r2.json'))['site']
assert s['zone']=='FR' and s['pue']==1.3 and s['wue_l_per_kwh']==0 and s['pue_source']=='given', s"
"$J" run --cloud aws:nowhere-1 -- touch "$T/ran" 2>"$T/err"; expect_eq "unknown region" $? 2
[ ! -e "$T/ran" ]; expect_eq "command not started" $? 0
expect_in "unknown region message" "unknown cloud region" "$T/err"
"$J" run --cloud gcp:europe-west13 -- true 2>"$T/err"; expect_eq "unknown region: nearest" $? 2
expect_in "unknown region: the nearest names" "unknown cloud region 'gcp:europe-west13' (nearest: gcp:europe-west1, gcp:europe-west3, gcp:europe-west10" "$T/err"
"$J" run --cloud awseu -- true 2>"$T/err"; expect_eq "malformed --cloud" $? 2
finish
