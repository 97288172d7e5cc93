# Sourced by the report tests (t2xxx) after sharness.sh: they build recorded data with
# $CLAWSS_HELPERS/mkdb (no root needed) into $CLAWSS_DB, named by the caller.

CLAWSS=${CLAWSS:-clawss}
. "$CLAWSS_SRC/tests/lib-need.sh"
need_file "$CLAWSS_HELPERS/mkdb" "make tests"
need python3

# jcheck EXPR: reads JSON on stdin; EXPR (Python, with d the document) must be true.
jcheck() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
ok = eval(sys.argv[1])
if not ok:
    print("jcheck failed:", sys.argv[1], file=sys.stderr)
    print(json.dumps(d, indent=1)[:3000], file=sys.stderr)
sys.exit(0 if ok else 1)' "$1"
}
