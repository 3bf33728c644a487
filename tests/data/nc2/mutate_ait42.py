import json, sys, glob

root = sys.argv[1]
f = sorted(glob.glob(f"{root}/home/.ait42/sessions/*.json"))[0]
d = json.load(open(f))
s = d[1]
s["status"] = "completed"
s["completedAt"] = "2025-11-20T10:00:00.000Z"
s["updatedAt"] = "2025-11-20T10:00:00.123456789+00:00"
s["chatHistory"].append(
    {
        "id": "msg-1763632800000",
        "role": "user",
        "content": "追加のメッセージ: ありがとう！",
        "timestamp": "2025-11-20T10:00:00.000Z",
        "instanceId": None,
    }
)
s["instances"][0]["status"] = "completed"
s["task"] = s["task"] + " (v2)"
open(f, "w").write(json.dumps(d, indent=2, ensure_ascii=False))
print(f, s["id"])
