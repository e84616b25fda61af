# Every input that grows has a ceiling (docs/limits.md): each is crossed here by one and the
# input is refused with a message that names the limit, while an input at the limit passes:
# configuration size, line length and sites; intensity file size and number of values; mark
# message and datagram size; key file and attestation size, signatures and subjects; the
# sampling interval; the calibration's duration and threads.
. "$(dirname "$0")/lib.sh"
J=$JST_BIN
refused() { # WHAT WANT-IN-STDERR CMD...
	local what=$1 want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ $rc -ne 0 ]; then ok; else ko "$what: accepted (exit 0)"; fi
	expect_in "$what: says why" "$want" "$T/err"
}

# configuration: 1 MiB, 1024-character lines, 32 sites
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$T/big.conf"
refused "config over 1 MiB" "File too large" "$J" run --no-store --config "$T/big.conf" -- true
python3 -c "print('[site a]\nzone = DE\nlabel = ' + 'x' * 1020)" >"$T/long.conf"
refused "config line over 1024" "line 3: line longer than 1024 characters" "$J" run --no-store --config "$T/long.conf" -- true
python3 -c "print(''.join('[site s%d]\nzone = DE\n' % i for i in range(32)))" >"$T/sites.conf"
"$J" run --no-store --quiet --config "$T/sites.conf" --site s31 -- true
expect_eq "32 sites accepted" $? 0
echo "[site s32]" >>"$T/sites.conf"
refused "a 33rd site" "more than 32 sites" "$J" run --no-store --config "$T/sites.conf" -- true

# intensity series: 256 MiB files, 2,000,000 values
truncate -s $((256 * 1024 * 1024 + 1)) "$T/huge.csv"
refused "intensity file over 256 MiB" "larger than 256 MiB" "$J" run --no-store --intensity "$T/huge.csv" --zone DE -- true
rm -f "$T/huge.csv"
python3 -c "
import sys
w = sys.stdout.write
w('datetime,zone,ci_g_per_kwh\n')
days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
n = 0
for y in range(2024, 2030):
    leap = y % 4 == 0
    for m in range(12):
        for d in range(days[m] if m != 1 or leap else 28):
            for h in range(24):
                for mi in range(0, 60, 1):
                    if n == 2000000:
                        sys.exit(0)
                    w('%d-%02d-%02dT%02d:%02d:00Z,DE,1\n' % (y, m + 1, d + 1, h, mi))
                    n += 1
" >"$T/pts.csv"
expect_eq "2,000,000 values generated" "$(($(wc -l <"$T/pts.csv") - 1))" 2000000
"$J" run --no-store --quiet --intensity "$T/pts.csv" --zone DE -- true
expect_eq "2,000,000 values accepted" $? 0
echo "2030-01-01T00:00:00Z,DE,1" >>"$T/pts.csv"
refused "2,000,001 values" "more than 2000000 values" "$J" run --no-store --intensity "$T/pts.csv" --zone DE -- true
rm -f "$T/pts.csv"

# training marks: 1024-byte messages, 8192-byte datagrams; ignored and named, never fatal
"$J" run --no-store -- python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
to = os.environ['JOULESTREAM_SOCKET']
s.sendto(b'phase - begin ' + b' ' * 1007 + b'abc', to)
s.sendto(b'phase - begin ' + b' ' * 1007 + b'abcd', to)
s.sendto(b'step - 1\n' * 1000, to)" 2>"$T/err"
expect_eq "marks over the limits: the command's exit" $? 0
expect_in "a 1025-byte message and the cut end of a 9000-byte datagram are ignored" \
	"2 training marks ignored, e.g. 'phase - begin" "$T/err"
expect_in "and the reason named" "message longer than 1024 bytes" "$T/err"
expect_in "the 1024-byte message and the datagram's first 8192 bytes count" "steps: 910" "$T/err"

# keys and attestations: 4 KiB key files, 16 MiB envelopes, 8 signatures, 8 subjects
head -c 4097 /dev/zero | tr '\0' '#' >"$T/big.pub"
refused "key file over 4 KiB" "larger than 4 KiB" "$J" key show "$T/big.pub"
truncate -s $((16 * 1024 * 1024 + 1)) "$T/big.json"
refused "attestation over 16 MiB" "larger than 16 MiB" "$J" verify "$T/big.json"
"$J" key create --out "$T/k" >/dev/null
python3 -c "
import json
sig = {'keyid': '', 'sig': 'A' * 86 + '=='}
json.dump({'payloadType': 'application/vnd.in-toto+json', 'payload': 'e30=', 'signatures': [sig] * 9}, open('$T/sigs.json', 'w'))"
"$J" verify "$T/sigs.json" --pub "$T/k/joulestream.pub" >"$T/out"
expect_eq "9 signatures: exit 1" $? 1
expect_in "9 signatures refused" "more than 8 signatures" "$T/out"
sub=()
for i in 1 2 3 4 5 6 7 8 9; do sub+=(--subject "m$i=$(printf '%064d' $i)"); done
refused "9 subjects" "at most 8" "$J" show last --format attestation "${sub[@]}"

# sampling and calibration bounds
refused "interval under 1 ms" "from 1ms to 1h" "$J" run --no-store --interval 500us -- true
refused "interval over 1 h" "from 1ms to 1h" "$J" run --no-store --interval 2h -- true
refused "calibration over 24 h" "duration up to 24 h" "$J" calibrate --db "$T/db" --duration 25h
refused "more than 256 load threads" "1 to 256" "$J" calibrate --db "$T/db" --threads 300
finish
