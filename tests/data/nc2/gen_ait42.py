"""Generate an AIT42 tree: home/.ait42/sessions/<hash16>.json (v3) + workspace_mapping.json, home/.ait42/sessions.json (v2),
projects/<p>/.ait42/sessions.json (v1)."""

import hashlib, json, os, random, sys, uuid
from datetime import datetime, timedelta, timezone

root = sys.argv[1]
random.seed(11)
home = f"{root}/home/.ait42"
os.makedirs(f"{home}/sessions", exist_ok=True)


def js(d):
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def rfc(d, digits=6):
    s = d.strftime("%Y-%m-%dT%H:%M:%S")
    return s + ("." + f"{d.microsecond:06d}"[:digits] if digits else "") + "+00:00"


tasks = [
    "ログイン画面のバグを修正する",
    "Refactor the payment module and add tests",
    "Améliorer la documentation 📚",
    "Implement dark mode",
    "パフォーマンスを改善して、メモリリークを調査する " * 5,
]


def session(n, ws, new_fields=True, typ=None):
    sid = str(uuid.UUID(int=random.getrandbits(128), version=4))
    typ = typ or random.choice(["competition", "ensemble", "debate"])
    t = datetime(2025, 11, 10, 12, 0, 0, 47000, tzinfo=timezone.utc) + timedelta(hours=n * 3)
    st = random.choice(["running", "completed", "failed", "paused"])
    insts = []
    for i in range(3):
        mode = {"competition": "comp", "ensemble": "ens", "debate": "debate"}[typ]
        inst = {
            "instanceId": i,
            "worktreePath": f"/tmp/worktree-{mode}-{sid}-{i}"
            if typ != "debate"
            else f"{ws}/src-tauri/.worktrees/debate-{sid[:8]}/debate-workspace",
            "branch": f"claude-{mode}-{sid}-{i}" if typ != "debate" else f"debate-{sid[:8]}",
            "agentName": f"🏆 {tasks[n % 5][:10]} 🤖 #{i} (12:0{i})",
            "status": random.choice(
                ["idle", "running", "completed", "failed", "paused", "archived"]
            ),
            "tmuxSessionId": f"ait42-claude-{mode}-{sid[:8]}-{i}"
            if typ != "debate"
            else f"debate-{sid}",
            "output": ("\x1b[32m✔ done\x1b[0m\r\n" * (3000 if (n == 1 and i == 1) else 3)),
            "startTime": js(t),
            "endTime": None,
            "filesChanged": i + 1,
            "linesAdded": 10 * i,
            "linesDeleted": i,
        }
        if new_fields:
            inst.update(
                {
                    "runtime": random.choice(["claude", "codex", "gemini"]),
                    "model": "sonnet",
                    "runtimeLabel": "Claude",
                }
            )
        insts.append(inst)
    ms = 1762776000000 + n * 100000
    chat = [
        {
            "id": f"msg-{ms}",
            "role": "user",
            "content": f"{tasks[n % 5]} お願いします #{n}",
            "timestamp": js(t + timedelta(seconds=5)),
            "instanceId": None,
        },
        {
            "id": f"msg-{ms}-response",
            "role": "assistant",
            "content": f"了解しました。Working on it (session {n}).",
            "timestamp": js(t + timedelta(seconds=9)),
            "instanceId": 1,
        },
        {
            "id": f"msg-{ms}-system",
            "role": "system",
            "content": "Instance 2 finished ✅",
            "timestamp": js(t + timedelta(seconds=60)),
            "instanceId": 2,
        },
        {
            "id": f"history-1-{ms}",
            "role": "assistant",
            "content": "📜 Tmux Session History:\n" + "line\n" * 40,
            "timestamp": js(t + timedelta(seconds=70)),
            "instanceId": 1,
        },
    ]
    if n % 4 == 0:
        chat.append(dict(chat[0], content="duplicate id message (same ms) 🔁"))
    s = {
        "id": sid,
        "type": typ,
        "task": tasks[n % 5],
        "status": st,
        "createdAt": js(t),
        "updatedAt": rfc(t + timedelta(minutes=5), random.choice([0, 3, 6, 9][:3])),
        "completedAt": js(t + timedelta(minutes=30)) if st == "completed" else None,
        "instances": insts,
        "chatHistory": chat if n % 7 else [],
        "model": "sonnet",
        "timeoutSeconds": 600,
        "preserveWorktrees": None if n % 2 else True,
        "winnerId": 1 if st == "completed" else None,
    }
    if new_fields:
        s["runtimeMix"] = ["claude", "codex"]
    s.update(
        {
            "totalDuration": 1800,
            "totalFilesChanged": 6,
            "totalLinesAdded": 30,
            "totalLinesDeleted": 3,
        }
    )
    return s


def hash16(p):
    return hashlib.sha256(p.rstrip("/").encode()).hexdigest()[:16]


wss = [
    "/home/taro/work/ait42-editor",
    "/home/taro/work/ウェブアプリ",
    "/home/taro/old/unmapped-proj",
]
mapping = {}
n = 0
for k, ws in enumerate(wss):
    sess = [session(n + j, ws, new_fields=(k != 1)) for j in range(6)]
    n += 6
    if k == 0:
        sess.append(sess[0])  # duplicate (retried create)
    h = hash16(ws)
    if k < 2:
        mapping[h] = ws
    open(f"{home}/sessions/{h}.json", "w").write(json.dumps(sess, indent=2, ensure_ascii=False))
open(f"{home}/sessions/{hash16('/home/taro/empty')}.json", "w").write("  \n")  # empty file
open(f"{home}/workspace_mapping.json", "w").write(json.dumps(mapping, indent=2, ensure_ascii=False))
v2 = [session(n + j, "/home/taro/v2", new_fields=False) for j in range(3)]
n += 3
v2.append(dict(session(n, "/x"), type="tournament"))  # invalid type -> serde would reject
n += 1
open(f"{home}/sessions.json", "w").write(json.dumps(v2, indent=2, ensure_ascii=False))
os.makedirs(f"{root}/projects/legacy-app/.ait42", exist_ok=True)
open(f"{root}/projects/legacy-app/.ait42/sessions.json", "w").write(
    json.dumps(
        [session(n + j, "/home/taro/projects/legacy-app", new_fields=False) for j in range(2)],
        indent=2,
        ensure_ascii=False,
    )
)
print("wrote", root, "sessions:", n + 2)
