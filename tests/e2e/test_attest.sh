# Signed attestations: `key create` makes an Ed25519 pair (private 0600, never overwritten);
# `show RUN --format attestation` prints an in-toto v1 statement in a DSSE envelope whose
# subject is the run's event digest (sha256 over its events in log order, recomputed here from
# ev_log by its definition) or a model artefact given with --subject; `verify FILE` accepts it
# and rejects a tampered payload, a flipped signature byte, a wrong key, and a store whose
# events were edited after signing (the store's verify then names the event).
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
R=$T/root
cp -r "$JST_FIXTURES/sysfs-2socket" "$R"
export pkg0=$R/sys/class/powercap/intel-rapl:1/energy_uj
DB=$T/db
v=$(cat "$pkg0")
"$J" run --db "$DB" --sysfs-root "$R" --sensors rapl --scope host --interval 100ms --zone DE \
	--quiet -- sh -c "sleep 0.2; echo $((v + 4000000)) >\"\$pkg0\"; sleep 0.2"
id=$("$J" runs --db "$DB" | awk 'NR==2{print $1}')
KEYS=$HOME/.config/joulestream/keys

"$J" key create >"$T/out"
expect_eq "key create" $? 0
expect_eq "private key mode" "$(stat -c %a "$KEYS/joulestream.key")" 600
expect_in "key create names the public key" "$KEYS/joulestream.pub" "$T/out"
"$J" key create >"$T/out" 2>&1
expect_eq "key create refuses to overwrite" $? 1
expect_in "and says why" "already holds a key" "$T/out"
"$J" key create --out "$T/other" >/dev/null
expect_eq "a second key elsewhere" $? 0

"$J" show "$id" --db "$DB" --format attestation >"$T/att.json"
expect_eq "show --format attestation" $? 0
hash=$(python3 - "$DB" "$id" <<'PY'
import hashlib, sqlite3, struct, sys
h = hashlib.sha256(b"joulestream.run-events/1\n")
for (body,) in sqlite3.connect(sys.argv[1]).execute("SELECT body FROM ev_log WHERE run=? ORDER BY seq", (sys.argv[2],)):
    h.update(struct.pack(">Q", len(body.encode())) + body.encode())
print(h.hexdigest())
PY
)
expect_py "an in-toto v1 statement in a DSSE envelope" "
import json, base64
e = json.load(open('$T/att.json'))
assert e['payloadType'] == 'application/vnd.in-toto+json' and len(e['signatures']) == 1, e.keys()
assert len(base64.b64decode(e['signatures'][0]['sig'])) == 64 and len(e['signatures'][0]['keyid']) == 64
s = json.loads(base64.b64decode(e['payload']))
assert s['_type'] == 'https://in-toto.io/Statement/v1', s['_type']
assert s['predicateType'] == 'https://joulestream.dev/attestation/footprint/v1'
assert s['subject'] == [{'name': 'joulestream-run:$id', 'digest': {'sha256': s['predicate']['run']['content_hash']}}], s['subject']
p = s['predicate']
assert p['run']['id'] == '$id' and p['run']['sealed'] is True and len(p['run']['store_chain_head']) == 64
assert p['run']['content_hash_of'] == 'joulestream.run-events/1'
assert abs(p['energy']['energy_j'] - 4.0) < 1e-9 and p['energy']['sensors'] == 'rapl', p['energy']
assert p['carbon']['data_version'] == 'bundled-2024.2' and p['carbon']['zone'] == 'DE', p['carbon']
assert 'water_l' in p['water'] and p['integrity']['flagged'] is False and p['metadata']['host']
"
expect_py "the subject digest is the run's event digest" "
import json, base64
s = json.loads(base64.b64decode(json.load(open('$T/att.json'))['payload']))
assert s['subject'][0]['digest']['sha256'] == '$hash'"

"$J" verify "$T/att.json" --db "$DB" >"$T/out"
expect_eq "verify the attestation: exit 0" $? 0
expect_in "signature good" "signature: good" "$T/out"
expect_in "content matches the store" "content: matches the store (events sha256:$hash" "$T/out"
"$J" verify "$T/att.json" >"$T/out"
expect_eq "verify without the run's store: exit 0" $? 0
expect_in "says the events were not compared" "events not compared" "$T/out"

# rejected: a tampered payload, a flipped signature byte, another key
python3 -c "
import json, base64
e = json.load(open('$T/att.json'))
s = json.loads(base64.b64decode(e['payload']))
s['predicate']['energy']['energy_j'] /= 2
e['payload'] = base64.b64encode(json.dumps(s).encode()).decode()
json.dump(e, open('$T/tampered.json', 'w'))
e = json.load(open('$T/att.json'))
sig = bytearray(base64.b64decode(e['signatures'][0]['sig'])); sig[10] ^= 1
e['signatures'][0]['sig'] = base64.b64encode(bytes(sig)).decode()
json.dump(e, open('$T/flipped.json', 'w'))"
for f in tampered flipped; do
	"$J" verify "$T/$f.json" --db "$DB" >"$T/out"
	expect_eq "$f: exit 1" $? 1
	expect_in "$f: bad signature" "signature: BAD" "$T/out"
done
"$J" verify "$T/att.json" --pub "$T/other/joulestream.pub" --db "$DB" >"$T/out"
expect_eq "wrong key: exit 1" $? 1
expect_in "wrong key: bad signature" "signature: BAD" "$T/out"
"$J" show "$id" --db "$DB" --format attestation --key "$T/other/joulestream.pub" >/dev/null 2>"$T/err"
expect_eq "a public key cannot sign" $? 1
chmod 644 "$KEYS/joulestream.key"
"$J" show "$id" --db "$DB" --format attestation >/dev/null 2>"$T/err"
expect_eq "a private key readable by others is refused" $? 1
expect_in "and the fix is named" "chmod 600" "$T/err"
chmod 600 "$KEYS/joulestream.key"

# a model artefact as the subject
echo "weights" >"$T/model.bin"
sum=$(sha256sum "$T/model.bin" | cut -d' ' -f1)
"$J" show "$id" --db "$DB" --format attestation --subject "model.bin=sha256:$sum" --key "$T/other/joulestream.key" >"$T/model.json"
expect_eq "attest a model artefact" $? 0
expect_py "the model is the subject, the run in the predicate" "
import json, base64
s = json.loads(base64.b64decode(json.load(open('$T/model.json'))['payload']))
assert s['subject'] == [{'name': 'model.bin', 'digest': {'sha256': '$sum'}}], s['subject']
assert s['predicate']['run']['id'] == '$id'"
"$J" verify "$T/model.json" --pub "$T/other/joulestream.pub" --db "$DB" >"$T/out"
expect_eq "verify the model attestation" $? 0
"$J" show "$id" --db "$DB" --format attestation --subject "model.bin=sha256:123" >/dev/null 2>&1
expect_eq "a bad --subject is refused" $? 2

# the store's events edited after signing: the statement no longer matches them, and the
# store's verify names the event
sid=$(sqlite3 "$DB" "SELECT id FROM ev_log WHERE run='$id' AND type='sample' AND body NOT LIKE '%\"energy_j\":0,%' LIMIT 1")
sqlite3 "$DB" "UPDATE ev_log SET body = replace(body, '\"energy_j\":', '\"energy_j\":9') WHERE id='$sid'"
"$J" verify "$T/att.json" --db "$DB" >"$T/out"
expect_eq "edited store: exit 1" $? 1
expect_in "edited store: the events differ" "content: DIFFERS: the events of run $id" "$T/out"
"$J" verify --db "$DB" >"$T/out"
expect_eq "the store's verify fails" $? 1
expect_in "and names the edited event" "event $sid" "$T/out"
finish
