#!/usr/bin/env python3
"""Prepares distinct, correctly signed GitHub deliveries for the gateway benchmark.

Writes one request per line: `event<TAB>signature<TAB>compact JSON body`. Bodies are 7-25 KB (GitHub's
real sizes: a full repository object, the issue, its user and labels, and a body of varying length).
20 % are `@agent` commands from trusted authors (MEMBER) spread over 40 actors; 80 % are ignored: 25 %
mentions from untrusted authors, 15 % comments without the mention, 15 % pull_request.synchronize,
15 % push, 10 % workflow_run.
`--only tasks` or `--only ignored` keeps one of the two kinds (the same deliveries, filtered), to measure what
each costs on its own.
The signature covers the body only, so wrk's Lua gives each request its own X-GitHub-Delivery without
re-signing.
"""
import argparse
import hashlib
import hmac
import json
import random

WORDS = ("the build fails when the cache is cold and the retry policy kicks in before the lock is "
         "released so the second worker sees a stale manifest and aborts with an unhelpful error").split()


def user(login, uid, kind="User"):
    base = f"https://api.github.com/users/{login}"
    return {"login": login, "id": uid, "node_id": f"MDQ6VXNlcj{uid}", "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "", "url": base, "html_url": f"https://github.com/{login}", "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}", "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs", "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events", "type": kind, "user_view_type": "public", "site_admin": False}


def repository(name):
    api = f"https://api.github.com/repos/{name}"
    repo = {"id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name.split("/")[1], "full_name": name,
            "private": False, "owner": user(name.split("/")[0], 1), "html_url": f"https://github.com/{name}",
            "description": "A repository under load", "fork": False, "url": api}
    for field in ("forks", "keys", "collaborators", "teams", "hooks", "issue_events", "events", "assignees", "branches",
                  "tags", "blobs", "git_tags", "git_refs", "trees", "statuses", "languages", "stargazers", "contributors",
                  "subscribers", "subscription", "commits", "git_commits", "comments", "issue_comment", "contents",
                  "compare", "merges", "archive", "downloads", "issues", "pulls", "milestones", "notifications",
                  "labels", "releases", "deployments"):
        repo[f"{field}_url"] = f"{api}/{field}{{/id}}"
    repo.update({"created_at": "2011-01-26T19:01:12Z", "updated_at": "2026-01-01T00:00:00Z", "pushed_at": "2026-01-01T00:00:00Z",
                 "git_url": f"git://github.com/{name}.git", "ssh_url": f"git@github.com:{name}.git",
                 "clone_url": f"https://github.com/{name}.git", "size": 108, "stargazers_count": 80, "watchers_count": 80,
                 "language": "Rust", "has_issues": True, "forks_count": 9, "open_issues_count": 0, "default_branch": "main",
                 "topics": ["agents", "webhooks"], "visibility": "public"})
    return repo


def text(rng, size):
    words = []
    while sum(len(w) + 1 for w in words) < size:
        words.append(rng.choice(WORDS))
    return " ".join(words)


def issue(rng, number, author, size):
    return {"url": f"https://api.github.com/repos/octo/repo/issues/{number}", "number": number, "title": text(rng, 60),
            "user": author, "labels": [{"id": i, "name": f"label-{i}", "color": "ededed", "default": False} for i in range(3)],
            "state": "open", "locked": False, "assignee": None, "assignees": [], "comments": rng.randint(0, 40),
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z", "author_association": "MEMBER",
            "html_url": f"https://github.com/octo/repo/issues/{number}", "body": text(rng, size)}


def delivery(rng, index, target_size):
    roll = rng.random()
    actor_id = 1000 + rng.randrange(40)
    actor = user(f"dev{actor_id}", actor_id)
    repo = repository("octo/repo")
    number = 1 + rng.randrange(500)
    filler = max(200, target_size - 9000)
    if roll < 0.60:
        trusted = roll < 0.20 or roll >= 0.45
        mention = roll < 0.45
        body = (f"@agent fix {text(rng, 120)}" if mention else text(rng, 200))
        payload = {"action": "created", "issue": issue(rng, number, actor, filler),
                   "comment": {"id": 10_000_000 + index, "user": actor, "body": body, "html_url": f"https://github.com/octo/repo/issues/{number}#issuecomment-{index}",
                               "created_at": "2026-01-02T00:00:00Z", "author_association": "MEMBER" if trusted else "NONE"},
                   "repository": repo, "sender": actor}
        event = "issue_comment"
    elif roll < 0.75:
        payload = {"action": "synchronize", "number": number, "pull_request": issue(rng, number, actor, filler),
                   "before": "%040x" % rng.getrandbits(160), "after": "%040x" % rng.getrandbits(160),
                   "repository": repo, "sender": actor}
        event = "pull_request"
    elif roll < 0.90:
        commits = [{"id": "%040x" % rng.getrandbits(160), "message": text(rng, 200), "author": {"name": actor["login"]},
                    "added": [], "removed": [], "modified": [f"src/file{i}.rs" for i in range(5)]} for _ in range(max(1, filler // 600))]
        payload = {"ref": "refs/heads/main", "before": "%040x" % rng.getrandbits(160), "after": "%040x" % rng.getrandbits(160),
                   "commits": commits, "repository": repo, "pusher": {"name": actor["login"]}, "sender": actor}
        event = "push"
    else:
        payload = {"action": "completed", "workflow_run": {"id": index, "name": "CI", "head_branch": "main", "status": "completed",
                   "conclusion": "success", "display_title": text(rng, filler), "actor": actor, "repository": repo},
                   "repository": repo, "sender": actor}
        event = "workflow_run"
    return event, payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=("tasks", "ignored"), help="keep only task-creating or only ignored deliveries")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sizes, commands = [], 0
    with open(args.out, "w") as out:
        for index in range(args.count):
            target = rng.randint(7_000, 23_500)
            event, payload = delivery(rng, index, target)
            body = json.dumps(payload, separators=(",", ":"))
            while len(body) < 7_000:
                payload["repository"]["description"] += " " + text(rng, 7_000 - len(body))
                body = json.dumps(payload, separators=(",", ":"))
            signature = "sha256=" + hmac.new(args.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            command = event == "issue_comment" and "@agent" in body and '"author_association":"MEMBER"' in body.split('"comment"')[1]
            if args.only and (args.only == "tasks") != command:
                continue
            commands += command
            sizes.append(len(body))
            out.write(f"{event}\t{signature}\t{body}\n")
    sizes.sort()
    print(f"{len(sizes)} deliveries, {min(sizes)}-{max(sizes)} bytes (median {sizes[len(sizes) // 2]}), "
          f"{commands} trusted @agent commands ({100 * commands / len(sizes):.1f} %)")


if __name__ == "__main__":
    main()
