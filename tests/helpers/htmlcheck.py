#!/usr/bin/env python3
"""Checks on a report page or on the DOM a browser rendered from it (t2060).

  htmlcheck.py inert FILE          no element or attribute that runs or fetches anything
  htmlcheck.py text FILE STRING    STRING is text content somewhere (not markup)
  htmlcheck.py row FILE CELL FLAG  a table row has a cell CELL and carries flag FLAG
  htmlcheck.py lane FILE LABEL     an SVG timeline has a lane labelled LABEL
  htmlcheck.py netlog FILE         a Chromium --log-net-log file: no request made by
                                   a page (only the browser's own, which fail in the
                                   namespace without network the test runs it in)
Exit 0 when the check holds, 1 (with why on stderr) when not."""
import json, sys
from html.parser import HTMLParser

FETCHING = {"script", "img", "image", "iframe", "frame", "object", "embed", "link", "use",
            "audio", "video", "source", "track", "base", "form", "input", "meta-refresh",
            "foreignobject", "animate", "set"}

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.texts = [], [], []
        self.stack, self.rows, self.row = [], [], None
        self.svg_texts = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        self.stack.append(tag)
        if tag == "tr":
            self.row = {"cells": [], "flags": []}
        elif tag == "td" and self.row is not None:
            self.row["cells"].append("")

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        self.texts.append(data)
        if "svg" in self.stack and "text" in self.stack and "title" not in self.stack:
            self.svg_texts.append(data)
        if self.row is not None and self.row["cells"] and "td" in self.stack:
            self.row["cells"][-1] += data
            if "span" in self.stack:
                self.row["flags"].append(data.strip())

def parse(path):
    p = Page()
    p.feed(open(path, encoding="utf-8").read())
    p.close()
    return p

def fail(why):
    print("htmlcheck:", why, file=sys.stderr)
    sys.exit(1)

def inert(path):
    p = parse(path)
    bad = sorted({t for t in p.tags if t in FETCHING})
    if bad:
        fail("elements that run or fetch: %s" % bad)
    for tag, k, v in p.attrs:
        if k.startswith("on") or k in ("src", "href", "xlink:href", "srcset", "action",
                                        "formaction", "background", "poster", "data"):
            fail("attribute %s on <%s>" % (k, tag))
        if v and ("://" in v or "url(" in v):
            fail("a URL in attribute %s of <%s>: %r" % (k, tag, v))
    css = " ".join(t for t in p.texts)
    if "@import" in css or "url(" in css:
        fail("the style sheet fetches")

def netlog(path):
    d = json.load(open(path))
    types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
    page = []
    for e in d["events"]:
        if types.get(e["type"]) != "URL_REQUEST_START_JOB":
            continue
        p = e.get("params", {})
        if "url" not in p:
            continue   # the job's end: its start said where
        # the browser's own (update checks, sign-in) say "not an origin"; a document's
        # subresources name their initiator and a file:// isolation key
        if p.get("initiator") != "not an origin" or "file://" in p.get("network_isolation_key", ""):
            page.append(p.get("url"))
    if page:
        fail("the page made requests: %s" % page)

def main():
    mode, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "inert":
        inert(path)
    elif mode == "netlog":
        netlog(path)
    elif mode == "text":
        if not any(args[0] in t for t in parse(path).texts):
            fail("no text %r" % args[0])
    elif mode == "row":
        rows = parse(path).rows
        if not any(args[0] in r["cells"] and args[1] in r["flags"] for r in rows):
            fail("no row with %r flagged %r in %s" % (args[0], args[1],
                 [r for r in rows if args[0] in r["cells"]]))
    elif mode == "lane":
        if not any(t.startswith(args[0]) for t in parse(path).svg_texts):
            fail("no lane %r in %s" % (args[0], parse(path).svg_texts))
    else:
        fail("unknown mode " + mode)

main()
