#!/bin/sh
test_description='report --format html: a page from a real recorded scenario, rendered by headless Chromium'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

CHECK="python3 $CLAWSS_SRC/tests/helpers/htmlcheck.py"
PNGSTAT="python3 $CLAWSS_SRC/tests/helpers/pngstat.py"
# a namespace with nothing but loopback for the browser: its own background calls
# (update checks, sign-in) fail there, so nothing leaves the machine (the network rule)
NS_BROWSER=clawss-$$-browser
command -v chromium >/dev/null && test_set_prereq CHROMIUM

# browse ARGS... FILE: headless Chromium on file://FILE, without network
browse() {
	prof=$(mktemp -d "$SHARNESS_TRASH_DIRECTORY/profile.XXXXXX") &&
	timeout 180 ip netns exec $NS_BROWSER chromium --headless=new --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$prof" "$@" 2>>chromium.err
}

test_expect_success 'setup' '
	netns_setup && ext_servers &&
	ip netns add $NS_BROWSER && ip -n $NS_BROWSER link set lo up &&
	cat >allow <<-\EOF
	# the burst: model downloads
	192.0.2.2 80 tcp
	EOF
'

# The tool bursts to :80, idles 3 s, uploads 10 kB to :8443 as a process named like
# markup, then queries :53; meanwhile a beacon (named like markup too) connects to
# :9001 every 3 s, four times, each held across polls so its owner is seen.
test_expect_success 'record: burst, idle, covert upload, beacon, hostile process names' '
	bg_ns $NS_TOOL python3 -c "
import socket, sys, time
open(\"/proc/self/comm\", \"w\").write(\"<img src=x>\")
time.sleep(4.5)
for i in range(4):
    c = socket.create_connection((\"192.0.2.2\", 9001), timeout=5)
    time.sleep(0.6)
    c.close()
    if i < 3:
        time.sleep(2.4)
print(\"beacon-done\", flush=True)
" >beacon.out &&
	bg_ns $NS_TOOL $TRAFFIC tool 192.0.2.2 --burst 4 --idle 3 --covert --udp --hold 0.6 \
		--linger 12 --comm "</text><script>" >tool.out &&
	TOOL=$BG &&
	timeout 90 "$CLAWSS" watch --interval 100ms pid:$TOOL &&
	grep -q covert-done tool.out && grep -q beacon-done beacon.out
'

test_expect_success 'report --format html exits 1 (flagged) and writes one page' '
	test_expect_code 1 "$CLAWSS" report --idle 1500ms --allow allow --format html >page.html &&
	head -n 1 page.html | grep -qi "^<!DOCTYPE html>" &&
	tail -n 1 page.html | grep -q "^</html>"
'

test_expect_success 'the page forbids fetching and running anything, and holds no URL' '
	grep -q "http-equiv=\"Content-Security-Policy\" content=\"default-src '\''none'\''; style-src '\''unsafe-inline'\''" page.html &&
	$CHECK inert page.html &&
	! grep -Eiq "https?://|file:|data:" page.html
'

test_expect_success 'the same filters as the table: nothing flagged, exit 0' '
	"$CLAWSS" report --idle 1500ms --container nosuch --format html >empty.html 2>/dev/null &&
	grep -q "0 of 0 rows flagged" empty.html
'

test_expect_success CHROMIUM 'Chromium renders it; the DOM has the covert upload, flagged' '
	browse --log-net-log="$PWD/net.json" --dump-dom "file://$PWD/page.html" >dom.html &&
	$CHECK row dom.html 192.0.2.2:8443 undeclared &&
	$CHECK lane dom.html "192.0.2.2:8443 tcp" &&
	$CHECK text dom.html "flagged: undeclared"
'

test_expect_success CHROMIUM 'the beacon is flagged and its lane says its period' '
	$CHECK row dom.html 192.0.2.2:9001 beacon &&
	$CHECK lane dom.html "192.0.2.2:9001 tcp" &&
	grep -Eq "every ~[0-9.]+(ms|s|m|h)</tspan>" dom.html
'

test_expect_success CHROMIUM 'hostile process names are text, not markup' '
	$CHECK text dom.html "</text><script>" &&
	$CHECK text dom.html "<img src=x>" &&
	$CHECK inert dom.html
'

test_expect_success CHROMIUM 'the page made no network request' '
	test -s net.json &&
	$CHECK netlog net.json
'

test_expect_success CHROMIUM 'the request check sees a page that does fetch' '
	printf "<!DOCTYPE html><p>x</p><img src=\"http://198.51.100.1/x.png\">\n" >fetches.html &&
	browse --log-net-log="$PWD/net-control.json" --dump-dom "file://$PWD/fetches.html" >/dev/null &&
	test_must_fail $CHECK netlog net-control.json &&
	test_must_fail $CHECK inert fetches.html
'

test_expect_success CHROMIUM 'a screenshot is written and is not blank' '
	browse --screenshot="$PWD/shot.png" --window-size=1400,1000 "file://$PWD/page.html" &&
	$PNGSTAT shot.png >shot.stat &&
	read w h colours ink <shot.stat &&
	test "$w" = 1400 && test "$h" = 1000 &&
	test "$colours" -gt 50 &&
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.03 else 1)" "$ink"
'

test_expect_success CHROMIUM 'with --since-idle the covert upload is after-idle on the page' '
	test_expect_code 1 "$CLAWSS" report --since-idle --idle 1500ms --format html >late.html &&
	browse --dump-dom "file://$PWD/late.html" >late-dom.html &&
	$CHECK row late-dom.html 192.0.2.2:8443 after-idle &&
	! $CHECK row late-dom.html 192.0.2.2:80 after-idle 2>/dev/null
'

test_expect_success '--by destination pages too, with the flag' '
	test_expect_code 1 "$CLAWSS" report --idle 1500ms --allow allow --by destination \
		--format html >dest.html &&
	$CHECK row dest.html 192.0.2.2:8443 undeclared &&
	$CHECK inert dest.html
'

test_done
