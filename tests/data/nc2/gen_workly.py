"""Generate a legacy Workly app folder: data/memory/{conversations,facts,embeddings,emotion_history,personality}.json"""

import json, math, os, random, sys
from datetime import datetime, timedelta

root = sys.argv[1]
random.seed(7)
mem = f"{root}/data/memory"
os.makedirs(mem, exist_ok=True)
t0 = datetime(2025, 11, 16, 8, 0, 0, 123456)


def iso(d):
    return d.isoformat()  # naive UTC; no fraction when microsecond == 0


user_lines = [
    "Salut Workly ! Tu vas bien ?",
    "J'ai une réunion à 14h avec Marie chez Dassault",
    "Je suis crevé aujourd'hui 😩",
    "Rappelle-moi d'acheter du pain",
    "J'adore le jazz manouche 🎸",
    "Mon frère Lucas habite à Lyon",
    "On peut coder en Python ce soir ?",
    "Quelle belle journée ☀️",
    "Je déteste les embouteillages",
]
bot_lines = [
    "Bien sûr ! 😊",
    "D'accord, c'est noté.",
    "Courage, tu vas y arriver 💪",
    "Haha, trop drôle !",
    "Je m'en souviens.",
]
segments = []
embeds = []
t = t0
for s in range(6):
    n = 20 if s < 5 else 5  # last segment: forced minimum
    msgs = []
    for k in range(n):
        role = "user" if k % 2 == 0 else "assistant"
        t += timedelta(seconds=random.randint(5, 90))
        if s == 2 and k == 3:
            t = t.replace(microsecond=0)  # no-fraction timestamp
        msgs.append(
            {
                "role": role,
                "content": random.choice(user_lines if role == "user" else bot_lines),
                "timestamp": iso(t),
            }
        )
    sid = f"segment_{(t0 + timedelta(hours=s)).strftime('%Y%m%d_%H%M%S')}_{s:03d}"
    summary = (
        f"Segment {s}: l'utilisateur parle de sa journée, de jazz et de Lyon" if s != 4 else ""
    )
    segments.append(
        {
            "segment_id": sid,
            "messages": msgs,
            "summary": {
                "summary": summary,
                "message_count": n,
                "timestamp": iso(t),
                "date_range": {"start": msgs[0]["timestamp"], "end": msgs[-1]["timestamp"]},
                "keypoints": ["jazz", "Lyon", "réunion"],
            },
            "created_at": msgs[0]["timestamp"],
            "message_count": n,
        }
    )
    if summary:
        v = [
            random.gauss(0, 1) for _ in range(384 if s != 3 else 128)
        ]  # segment 3: wrong dimension
        nrm = math.sqrt(sum(x * x for x in v))
        v = [x / nrm for x in v]
        embeds.append(
            {
                "text": summary[:200],
                "embedding": v,
                "segment_id": sid,
                "metadata": {"type": "segment_summary"},
                "created_at": iso(t),
            }
        )
json.dump(
    {"segments": segments},
    open(f"{mem}/conversations.json", "w", encoding="utf-8"),
    indent=2,
    ensure_ascii=False,
)
json.dump(
    {"embeddings": embeds},
    open(f"{mem}/embeddings.json", "w", encoding="utf-8"),
    indent=2,
    ensure_ascii=False,
)
facts = {"entities": [], "preferences": [], "events": [], "relationships": []}
for i, (ty, val) in enumerate(
    [
        ("person", "Marie"),
        ("location", "Lyon"),
        ("organization", "Dassault"),
        ("person", "Lucas"),
        ("date", "14h"),
        ("location", "Montréal"),
        ("person", "Zoé"),
    ]
):
    e = {
        "entity_type": ty,
        "value": val,
        "context": f"...{val}...",
        "confidence": 0.8,
        "first_seen": iso(t0 + timedelta(minutes=i)),
        "occurrences": 1 + i % 3,
        "extracted_at": iso(t0 + timedelta(minutes=i)),
    }
    if i % 3:
        e["last_seen"] = iso(t0 + timedelta(hours=i))
    facts["entities"].append(e)
for i, (cat, subj, sent) in enumerate(
    [
        ("music", "jazz manouche", "positive"),
        ("transport", "embouteillages", "negative"),
        ("food", "pain", "positive"),
        ("music", "jazz manouche", "positive"),
    ]
):  # dup kept
    facts["preferences"].append(
        {
            "category": cat,
            "subject": subj,
            "sentiment": sent,
            "intensity": 0.7,
            "context": f"J'adore {subj}",
            "timestamp": iso(t0 + timedelta(minutes=10 + i)),
            "extracted_at": iso(t0 + timedelta(minutes=10 + i)),
        }
    )
facts["events"].append(
    {
        "event_type": "meeting",
        "description": "Réunion avec Marie chez Dassault",
        "participants": ["Marie"],
        "location": "Dassault",
        "time_reference": "14h",
        "status": "planned",
        "context": "réunion à 14h",
        "timestamp": iso(t0),
        "extracted_at": iso(t0),
    }
)
facts["events"].append(
    {
        "event_type": "task",
        "description": "Acheter du pain " + "x" * 100 + "...",
        "participants": [],
        "location": None,
        "time_reference": None,
        "status": "planned",
        "context": "pain",
        "timestamp": iso(t0),
        "extracted_at": iso(t0),
    }
)
facts["relationships"].append(
    {
        "subject": "Lucas",
        "relation_type": "frère",
        "object": "user",
        "context": "Mon frère Lucas",
        "confidence": 0.9,
        "timestamp": iso(t0),
        "extracted_at": iso(t0),
    }
)
json.dump(facts, open(f"{mem}/facts.json", "w", encoding="utf-8"), indent=2, ensure_ascii=False)
emos = ["joy", "angry", "sorrow", "surprised", "fun", "neutral"]
entries = []
for i in range(60):
    e = random.choice(emos)
    ent = {
        "emotion": e,
        "intensity": 0.0 if e == "neutral" else round(random.uniform(20, 95), 1),
        "confidence": 0.0 if e == "neutral" else round(random.uniform(40, 99), 1),
        "source": random.choice(["user", "assistant"]),
        "message_preview": random.choice(user_lines)[:100],
        "timestamp": iso(t0 + timedelta(minutes=7 * i)),
    }
    if i % 5:
        ent["context"] = {} if i % 2 else {"user_id": "desktop_user"}
    entries.append(ent)
json.dump(
    {
        "entries": entries,
        "last_modified": iso(t0 + timedelta(hours=8)),
        "total_entries": len(entries),
    },
    open(f"{mem}/emotion_history.json", "w", encoding="utf-8"),
    indent=2,
    ensure_ascii=False,
)
traits = {}
for j, name in enumerate(["kindness", "humor", "formality", "enthusiasm", "empathy", "creativity"]):
    score = 0.5 + j * 0.05
    hist = [{"timestamp": iso(t0), "score": score, "reason": "Initialisation"}]
    for k in range(j * 2):
        new = round(min(1, max(0, score + random.uniform(-0.05, 0.05))), 4)
        hist.append(
            {
                "timestamp": iso(t0 + timedelta(hours=k + 1)),
                "old_score": score,
                "new_score": new,
                "delta": round(new - score, 4),
                "reason": f"Interaction positive n°{k} 😊",
            }
        )
        score = new
    traits[name] = {
        "name": name,
        "score": score,
        "description": f"Trait {name} de Workly",
        "last_updated": hist[-1]["timestamp"],
        "evolution_history": hist,
    }
json.dump(
    {"traits": traits, "last_modified": iso(t0 + timedelta(hours=9))},
    open(f"{mem}/personality.json", "w", encoding="utf-8"),
    indent=2,
    ensure_ascii=False,
)
print("wrote", root)
