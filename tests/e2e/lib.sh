# Shared by the end-to-end tests: a temporary home, a fresh database, and checks that print
# what they compared. Each test script sources this, calls its checks, then `finish`.
set -u
: "${JST_BIN:?JST_BIN must point at the joulestream program}"
T=$(mktemp -d)
BURN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/burn # burn SECONDS: a command that uses CPU
trap 'rm -rf "$T"' EXIT
export HOME="$T/home" XDG_DATA_HOME="$T/data"
mkdir -p "$HOME"
# Nothing from the developer's environment: no configuration, cache, tokens or time zone (UTC
# gives no zone guess, so a run without --zone uses the world average unless a test says so).
unset XDG_CONFIG_HOME XDG_CACHE_HOME JOULESTREAM_CONFIG ELECTRICITYMAPS_TOKEN WATTTIME_USER \
	WATTTIME_PASSWORD JOULESTREAM_ELECTRICITYMAPS_URL JOULESTREAM_WATTTIME_URL TZDIR
export TZ=UTC
passed=0
failed=0

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# expect_eq WHAT GOT WANT
expect_eq() { if [ "$2" = "$3" ]; then ok; else ko "$1: got '$2', want '$3'"; fi; }
# expect_in WHAT NEEDLE FILE
expect_in() { if grep -qF -- "$2" "$3"; then ok; else ko "$1: '$2' not in $3:"; sed 's/^/  | /' "$3" >&2; fi; }
expect_not_in() { if grep -qF -- "$2" "$3"; then ko "$1: '$2' unexpectedly in $3"; else ok; fi; }
# expect_py WHAT PYTHON-EXPR (file paths in env), true/false
expect_py() {
	local what=$1; shift
	if python3 -c "$@"; then ok; else ko "$what"; fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
