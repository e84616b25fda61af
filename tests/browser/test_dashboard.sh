# The dashboard and the HTML report in a real browser (tests/browser/dashboard.mjs): serve is
# started here on a free port with an agent and an admin token, runs are ingested through the
# API by the test, `joulestream show --format html` writes a report of a measured run, and
# Debian's chromium is driven by playwright-core (npm ci into the build folder; pinned to 1.61.1,
# the last release that runs on Debian 12's Node.js 18: docs/development.md). Screenshots
# are kept in $JST_BUILD_DIR/browser-artefacts/. Skipped (77) only when chromium is missing.
. "$JST_SOURCE_DIR/tests/e2e/lib.sh"
. "$JST_SOURCE_DIR/tests/e2e/serve_lib.sh"
J=$JST_BIN
HERE=$JST_SOURCE_DIR/tests/browser
if [ ! -x /usr/bin/chromium ]; then
	echo "SKIP: /usr/bin/chromium is missing (scripts/install-deps installs Debian's chromium)"
	exit 77
fi
command -v npm >/dev/null || { echo "FAIL: npm is missing (scripts/install-deps installs it)" >&2; exit 1; }
NPM_DIR=$JST_BUILD_DIR/browser-npm
OUT=$JST_BUILD_DIR/browser-artefacts
mkdir -p "$NPM_DIR" "$OUT"
if ! cmp -s "$HERE/package-lock.json" "$NPM_DIR/package-lock.json" || [ ! -d "$NPM_DIR/node_modules/playwright-core" ]; then
	cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR/"
	(cd "$NPM_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
		{ echo "FAIL: npm ci of tests/browser (playwright-core) failed" >&2; exit 1; }
fi

DB=$T/serve.db
AGENT=$("$J" token create --role agent --db "$DB" 2>/dev/null)
ADMIN=$("$J" token create --role admin --db "$DB" 2>/dev/null)
# two configured sites for the Zones page: one with its own PUE, one taking its cloud region's
printf '[site lab]\nzone = DE\npue = 1.25\nwue = 0.4\n[site cloudy]\ncloud = aws:eu-central-1\n' >"$T/sites.conf"
start_serve "$DB" --config "$T/sites.conf"
expect_eq "dashboard served without a token" "$(http GET / "" | head -c 18)" "200 <!doctype html"

# a measured run, reported as one HTML file
"$J" run --db "$T/local.db" --zone FR --model mlp --interval 50ms --quiet -- "$BURN" 0.6
expect_eq "run exit" $? 0
"$J" show last --db "$T/local.db" --format html >"$T/report.html"
expect_eq "show --format html exit" $? 0
cp "$T/report.html" "$OUT/report.html"

URL=$URL ADMIN=$ADMIN AGENT=$AGENT OUT=$OUT REPORT=$T/report.html NPM_DIR=$NPM_DIR \
	node "$HERE/dashboard.mjs"
expect_eq "browser checks" $? 0
stop_serve
finish
