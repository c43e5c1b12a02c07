#!/usr/bin/env python3
"""Sends prepared deliveries (bench/prepare.py's file) one at a time over one keep-alive connection.

    send.py REQUESTS_FILE COUNT PORT RUN_NAME

Each delivery gets its own X-GitHub-Delivery (`{RUN_NAME}-{n}`); prints how many answers had each status and
exits non-zero when any was not 200 or 202. For instruction counts (bench/instructions.sh), where wrk's
duration-bound load would make the number of requests vary.
"""
import http.client
import sys


def main():
    path, count, port, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    deliveries = []
    with open(path) as prepared:
        for line in prepared:
            event, signature, body = line.rstrip("\n").split("\t", 2)
            deliveries.append((event, signature, body.encode()))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    statuses = {}
    for n in range(count):
        event, signature, body = deliveries[n % len(deliveries)]
        connection.request("POST", "/webhooks/github", body=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": f"{run}-{n}",
            "X-GitHub-Hook-ID": "4242", "X-Hub-Signature-256": signature, "User-Agent": "GitHub-Hookshot/bench"})
        answer = connection.getresponse()
        answer.read()
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    print(" ".join(f"{status}: {n}" for status, n in sorted(statuses.items())), file=sys.stderr)
    sys.exit(0 if set(statuses) <= {200, 202} else 1)


if __name__ == "__main__":
    main()
