#!/usr/bin/env python3
"""Benchmark client (not a test): GET URL COUNT times, evenly over SECONDS, each
on a new connection; prints the latencies' p50, p99 and max in ms, as JSON."""
import http.client
import json
import sys
import time
import urllib.parse


def main():
    url, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    parts = urllib.parse.urlsplit(url)
    took = []
    started = time.monotonic()
    for i in range(count):
        due = started + seconds * i / count
        time.sleep(max(0.0, due - time.monotonic()))
        asked = time.monotonic()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        body = response.read()
        connection.close()
        took.append((time.monotonic() - asked) * 1000)
        if response.status != 200 or not body:
            sys.exit(f"{url}: HTTP {response.status}, {len(body)} bytes")
    took.sort()
    pick = lambda q: round(took[min(len(took) - 1, int(q * len(took)))], 2)
    print(json.dumps({"count": count, "bytes": len(body), "p50_ms": pick(0.50),
                      "p99_ms": pick(0.99), "max_ms": round(took[-1], 2)}))


main()
