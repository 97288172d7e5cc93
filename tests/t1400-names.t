#!/bin/sh
test_description='names: DNS seen in the namespace names destinations; allowlists and policy by name; report --dns and the dns-tunnel flag'
. /usr/share/sharness/sharness.sh
. "$CLAWSS_SRC/tests/lib-netns.sh"

DNS="python3 $CLAWSS_SRC/tests/helpers/dns.py"

# at_least N QUERY: the query's value is at least N (for wait_for: evaluated each poll)
at_least() {
	test "$(sql "$2")" -ge "$1"
}

# flagged_names FILE: qnames of --dns rows flagged dns-tunnel
flagged_names() {
	python3 -c 'import json, sys
for r in json.load(open(sys.argv[1])):
    if "dns-tunnel" in r["flags"]: print(r["qname"])' "$1"
}

test_expect_success 'setup: a resolver in ext answering api.example.test like a CDN' '
	netns_setup &&
	for a in 198.51.100.10 198.51.100.11 198.51.100.20 203.0.113.10 203.0.113.11 203.0.113.30; do
		ip -n $NS_EXT addr add $a/32 dev lo || return 1
	done &&
	ip -n $NS_TOOL route add 198.51.100.0/24 via 192.0.2.2 &&
	ip -n $NS_TOOL route add 203.0.113.0/24 via 192.0.2.2 &&
	bg_ns $NS_EXT $TRAFFIC serve 0.0.0.0 443 &&
	bg_ns $NS_EXT $DNS serve 192.0.2.2 &&
	wait_for 10 in_ns $NS_TOOL $DNS query 192.0.2.2 x.example.test &&
	wait_for 10 sh -c "ip netns exec $NS_EXT ss -ltn | grep -q \":443 \""
'

test_expect_success 'watch: resolve and connect in a burst, idle, then resolve and connect late' '
	db_reset &&
	bg "$CLAWSS" watch --interval 200ms $NS_TOOL &&
	W=$BG &&
	wait_for 10 sh -c "ip netns exec $NS_TOOL nft list table inet clawss >/dev/null" &&
	for i in 1 2; do
		a=$(in_ns $NS_TOOL $DNS query 192.0.2.2 api.example.test) &&
		echo "$a" >>api-addrs &&
		in_ns $NS_TOOL $TRAFFIC connect $a 443 1 --for 0.3 || return 1
	done &&
	b=$(in_ns $NS_TOOL $DNS query 192.0.2.2 www.example.test) &&
	in_ns $NS_TOOL $TRAFFIC connect $b 443 1 --for 0.3 &&
	test $(sort -u api-addrs | wc -l) = 2 &&
	wait_for 10 at_least 3 "SELECT count(*) FROM sockets WHERE remote_port = 443" &&
	sleep 6 &&
	c=$(in_ns $NS_TOOL $DNS query 192.0.2.2 late.test) &&
	in_ns $NS_TOOL $TRAFFIC connect $c 443 1 --for 0.3 &&
	wait_for 10 at_least 1 "SELECT count(*) FROM sockets WHERE remote_addr = '\''203.0.113.30'\''"
'

test_expect_success 'a tunnel: 40 random-label TXT queries by sendto; a connected query to that resolver' '
	in_ns $NS_TOOL $DNS tunnel 192.0.2.2 t.tunnel.test 40 &&
	in_ns $NS_TOOL $DNS query 192.0.2.2 z.example.test --connect --hold 1 &&
	wait_for 10 at_least 1 "SELECT count(*) FROM sockets WHERE remote_port = 53" &&
	wait_for 15 at_least 40 "SELECT count(*) FROM dns_queries WHERE qname LIKE '\''%.t.tunnel.test'\''" &&
	kill -TERM $W && wait $W
'

test_expect_success 'the table is gone when watch leaves the namespace' '
	test_must_fail ip netns exec $NS_TOOL nft list table inet clawss
'

test_expect_success 'names: both API addresses and the queries were recorded' '
	test "$(sql "SELECT count(DISTINCT addr) FROM names WHERE name = '\''api.example.test'\''")" = 2 &&
	test "$(sql "SELECT count(*) FROM dns_queries WHERE qname = '\''api.example.test'\'' AND rcode = 0 AND answers IS NOT NULL")" = 2
'

test_expect_success 'rows carry remote_name (json, csv, table, export, the view); exit 1: a dns-tunnel row' '
	test_expect_code 1 "$CLAWSS" report --format json >out.json &&
	python3 -c "import json
rows = [r for r in json.load(open(\"out.json\")) if r[\"remote_port\"] == 443]
names = sorted(r[\"remote_name\"] for r in rows)
assert names == [\"api.example.test\", \"api.example.test\", \"late.test\", \"www.example.test\"], names" &&
	test_expect_code 1 "$CLAWSS" report --format csv >out.csv &&
	head -1 out.csv | grep -q remote_name &&
	grep -q "api.example.test" out.csv &&
	test_expect_code 1 "$CLAWSS" report >out.txt &&
	grep -q "^CONTAINER.*NAME" out.txt &&
	grep -q "late.test" out.txt &&
	"$CLAWSS" export --format jsonl >out.jsonl &&
	grep -q "\"remote_name\": \"api.example.test\"" out.jsonl &&
	test "$(sql "SELECT count(*) FROM connections WHERE remote_name = '\''api.example.test'\''")" = 2
'

test_expect_success '--by destination groups the API by its name' '
	test_expect_code 1 "$CLAWSS" report --by destination --format json >by.json &&
	python3 -c "import json
g = [r for r in json.load(open(\"by.json\")) if r[\"remote_name\"] == \"api.example.test\"]
assert len(g) == 1 and g[0][\"attempts\"] == 2, g"
'

test_expect_success 'an allowlist naming the API declares both of its addresses' '
	printf "api.example.test 443 tcp\n" >allow &&
	test_expect_code 1 "$CLAWSS" report --allow allow --format json >a.json &&
	python3 -c "import json
rows = [r for r in json.load(open(\"a.json\")) if r[\"remote_port\"] == 443]
bad = sorted(r[\"remote_name\"] for r in rows if \"undeclared\" in r[\"flags\"])
assert bad == [\"late.test\", \"www.example.test\"], bad"
'

test_expect_success '*.example.test declares the names under it, not late.test' '
	printf "*.example.test 443\n" >allow2 &&
	test_expect_code 1 "$CLAWSS" report --allow allow2 --format json >a2.json &&
	python3 -c "import json
rows = [r for r in json.load(open(\"a2.json\")) if r[\"remote_port\"] == 443]
bad = sorted(r[\"remote_name\"] for r in rows if \"undeclared\" in r[\"flags\"])
assert bad == [\"late.test\"], bad"
'

test_expect_success 'policy --until-idle names the API, not what came after the burst' '
	"$CLAWSS" policy --container $NS_TOOL --until-idle --idle 4s >policy &&
	grep -q "^api.example.test  *443 tcp" policy &&
	grep -q "^www.example.test  *443 tcp" policy &&
	! grep -q "late.test" policy &&
	! grep -q "^198.51.100.1[01] " policy &&
	"$CLAWSS" report --allow policy --idle 4s --since-idle --format json >p.json;
	test $? = 1 &&
	python3 -c "import json
rows = [r for r in json.load(open(\"p.json\")) if r[\"remote_port\"] == 443]
assert [r[\"remote_name\"] for r in rows if \"undeclared\" in r[\"flags\"]] == [\"late.test\"], rows"
'

test_expect_success 'the connection to the tunnel'\''s resolver is flagged dns-tunnel, the others not' '
	test_expect_code 1 "$CLAWSS" report --format json >r.json &&
	python3 -c "import json
rows = json.load(open(\"r.json\"))
dns = [r for r in rows if r[\"remote_port\"] == 53]
assert dns and all(\"dns-tunnel\" in r[\"flags\"] for r in dns), dns
assert all(r[\"flags\"] == [] for r in rows if r[\"remote_port\"] == 443), rows"
'

test_expect_success 'report --dns lists the tunnel flagged and the ordinary lookups not' '
	test_expect_code 1 "$CLAWSS" report --dns --format json >dns.json &&
	test "$(flagged_names dns.json | grep -c "\.t\.tunnel\.test$")" = 40 &&
	test "$(flagged_names dns.json | grep -vc "\.t\.tunnel\.test$")" = 0 &&
	python3 -c "import json
rows = json.load(open(\"dns.json\"))
api = [r for r in rows if r[\"qname\"] == \"api.example.test\"]
assert len(api) == 2 and all(r[\"flags\"] == [] for r in api), api
assert api[0][\"qtype\"] == \"A\" and api[0][\"rcode\"] == \"NOERROR\" and len(api[0][\"answers\"]) == 1, api
t = [r for r in rows if r[\"qname\"].endswith(\".t.tunnel.test\")][0]
assert t[\"qtype\"] == \"TXT\" and t[\"resolver_addr\"] == \"192.0.2.2\" and t[\"resolver_port\"] == 53, t" &&
	"$CLAWSS" report --dns --format csv >dns.csv;
	head -1 dns.csv | tr -d "\r" | grep -q "^container,time,resolver_addr,resolver_port,proto,qname,qtype,rcode,answers,after_idle,flags$" &&
	"$CLAWSS" report --dns >dns.txt;
	grep -q "dns-tunnel" dns.txt
'

test_done
