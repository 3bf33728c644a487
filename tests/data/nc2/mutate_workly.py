import json, sys

mem = sys.argv[1] + "/data/memory"
p = json.load(open(f"{mem}/personality.json"))
t = p["traits"]["humor"]
old = t["score"]
t["score"] = 0.9
t["evolution_history"].append(
    {
        "timestamp": "2025-11-17T10:00:00",
        "old_score": old,
        "new_score": 0.9,
        "delta": round(0.9 - old, 4),
        "reason": "Blague réussie 🤣",
    }
)
t["last_updated"] = "2025-11-17T10:00:00"
json.dump(p, open(f"{mem}/personality.json", "w"), indent=2, ensure_ascii=False)
f = json.load(open(f"{mem}/facts.json"))
f["entities"][1]["occurrences"] = 9
f["entities"][1]["last_seen"] = "2025-11-17T09:00:00"
f["entities"][1]["confidence"] = 0.95
f["entities"].append(
    {
        "entity_type": "location",
        "value": "Besançon",
        "context": "à Besançon",
        "confidence": 0.7,
        "first_seen": "2025-11-17T09:30:00",
        "occurrences": 1,
        "extracted_at": "2025-11-17T09:30:00",
    }
)
json.dump(f, open(f"{mem}/facts.json", "w"), indent=2, ensure_ascii=False)
e = json.load(open(f"{mem}/emotion_history.json"))
e["entries"].append(
    {
        "emotion": "joy",
        "intensity": 88.0,
        "confidence": 90.0,
        "source": "user",
        "message_preview": "Super nouvelle !",
        "timestamp": "2025-11-17T11:00:00",
        "context": {},
    }
)
e["total_entries"] = len(e["entries"])
json.dump(e, open(f"{mem}/emotion_history.json", "w"), indent=2, ensure_ascii=False)
c = json.load(open(f"{mem}/conversations.json"))
c["segments"][0]["messages"][0]["content"] = "Salut Workly (édité) !"
json.dump(c, open(f"{mem}/conversations.json", "w"), indent=2, ensure_ascii=False)
