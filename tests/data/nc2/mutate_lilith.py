import json, sys

root = sys.argv[1]
p = f"{root}/response_patterns.json"
d = json.load(open(p))
for r in d:
    if r.get("fragment_id") == "pattern_general_99":
        r["success_score"] = 0.95
        r["usage_count"] = 10
        r["response_text"] = "Il fait beau ☀️"
d.append(
    {
        "fragment_id": "pattern_farewell_60",
        "trigger_context": "see ya",
        "response_text": "See you! 👋",
        "success_score": 0.5,
        "intent": "farewell",
        "usage_count": 0,
        "embedding_cache": None,
    }
)
open(p, "w").write(json.dumps(d, indent=2))
p = f"{root}/data/users/alice/response_patterns.json"
d = json.load(open(p))
d = [r for r in d if r["fragment_id"] != "seed_general_1"]  # user deleted a pattern
open(p, "w").write(json.dumps(d, indent=2))
