"""Generate a legacy EdgeSoul tree: backend/data/edgesoul.db + browser exports/."""

import json, os, random, sqlite3, sys, uuid
from datetime import datetime, timedelta

root = sys.argv[1]
random.seed(42)
os.makedirs(f"{root}/backend/data", exist_ok=True)
os.makedirs(f"{root}/exports", exist_ok=True)
db = f"{root}/backend/data/edgesoul.db"
if os.path.exists(db):
    os.remove(db)
c = sqlite3.connect(db)
c.execute("PRAGMA journal_mode=WAL")
c.execute("PRAGMA foreign_keys=ON")
c.executescript("""
CREATE TABLE user_profiles (id INTEGER PRIMARY KEY, user_id VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255),
 gender VARCHAR(20), empathy_level INTEGER, humor_level INTEGER, formality_level INTEGER, verbosity_level INTEGER,
 proactiveness_level INTEGER, preferred_tone VARCHAR(50), response_style VARCHAR(50), emoji_usage BOOLEAN,
 voice_enabled BOOLEAN, auto_speak_responses BOOLEAN, voice_speed FLOAT, voice_pitch FLOAT, interests JSON,
 dislikes JSON, communication_patterns JSON, total_conversations INTEGER, total_messages INTEGER,
 avg_session_length FLOAT, created_at DATETIME, updated_at DATETIME);
CREATE TABLE memories (id INTEGER PRIMARY KEY, memory_id VARCHAR(255) NOT NULL UNIQUE,
 user_id VARCHAR(255) REFERENCES user_profiles(user_id), memory_type VARCHAR(50), content TEXT NOT NULL,
 context TEXT, confidence FLOAT, importance FLOAT, access_count INTEGER, memory_metadata JSON,
 created_at DATETIME, last_accessed DATETIME);
CREATE INDEX ix_mem_user_type ON memories(user_id, memory_type);
CREATE INDEX ix_mem_created ON memories(created_at);
CREATE TABLE emotional_patterns (id INTEGER PRIMARY KEY, user_id VARCHAR(255) REFERENCES user_profiles(user_id),
 emotion VARCHAR(50), frequency INTEGER, avg_intensity FLOAT, triggers JSON, time_patterns JSON, trend VARCHAR(20),
 last_occurrence DATETIME, UNIQUE(user_id, emotion));
CREATE TABLE conversation_contexts (id INTEGER PRIMARY KEY, user_id VARCHAR(255) UNIQUE REFERENCES user_profiles(user_id),
 session_id VARCHAR(255), messages JSON, topics JSON, current_emotion VARCHAR(50), emotion_trajectory JSON,
 started_at DATETIME, last_activity DATETIME);
""")


def dt(d):
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


base = datetime(2025, 10, 20, 9, 0, 0)
users = [
    ("default", "Default", "not_set"),
    ("user_001", "Navin Kumar", "male"),
    (
        str(uuid.UUID(int=random.getrandbits(128), version=4)),
        None,
        "not_set",
    ),  # per-session uuid "user"
    ("user_josé", "José Ñúñez 🌮", "other"),
]
interests_pool = ["music", "café culture", "hiking", "アニメ", "chess", "photography", "coding"]
for i, (uid, name, g) in enumerate(users):
    c.execute(
        "INSERT INTO user_profiles VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            uid,
            name,
            g,
            50 + i * 10,
            30 + i * 15,
            20 + i * 5,
            60,
            40 + i,
            ["friendly", "warm", "professional", "playful"][i],
            ["balanced", "concise", "detailed", "casual"][i],
            i % 2,
            1 if i == 1 else 0,
            0,
            1.0 + i * 0.1,
            1.0 - i * 0.05,
            json.dumps(random.sample(interests_pool, 3)),
            json.dumps(["spam calls"] if i else []),
            json.dumps({"greeting_style": "hey", "avg_words": 12 + i}),
            3 + i,
            40 + i * 7,
            12.5 + i,
            dt(base + timedelta(days=i)),
            dt(base + timedelta(days=i + 5)),
        ),
    )
types = ["preference", "pattern", "fact", "conversation", "emotional"]
contents = {
    "preference": [
        "Likes jazz music in the evening",
        "Prefers tea over coffee ☕",
        "Aime le café crème le matin",
        "Prefers short answers",
        "お茶が好き (likes green tea)",
    ],
    "pattern": [
        "Usually chats late at night",
        "Asks for motivation on Mondays",
        "Greets with 'yo'",
    ],
    "fact": [
        "Works as a nurse in Chennai",
        "Has a dog named Bruno",
        "Is learning Japanese",
        "Lives in Zürich",
        "Sister's name is Priya",
    ],
    "conversation": [
        "Talked about exam stress",
        "Discussed a hiking trip to Mont Blanc",
        "Asked about résumé tips",
    ],
    "emotional": ["Feels anxious before presentations", "Gets happy talking about music 🎶"],
}
mid = 0
ts0 = 1761597639.307292
for uid, _, _ in users:
    for k in range(random.randint(12, 25)):
        t = random.choice(types)
        content = random.choice(contents[t]) + ("" if k < 5 else f" (note {k})")
        ts = ts0 + mid * 13.1
        memory_id = f"{uid}_{ts!r}"  # float repr
        mid += 1
        c.execute(
            "INSERT INTO memories VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)",
            (
                memory_id,
                uid,
                t,
                content,
                "chat" if k % 3 else None,
                round(random.uniform(0.3, 1.0), 2),
                round(random.uniform(0.1, 1.0), 2),
                random.randint(0, 9),
                json.dumps({"source": "chat", "tags": ["auto"]}) if k % 2 else None,
                dt(base + timedelta(hours=mid)),
                dt(base + timedelta(hours=mid + 2)) if k % 4 else None,
            ),
        )
# odd-but-valid: empty context, zero confidence, very long content
c.execute(
    "INSERT INTO memories VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)",
    (
        "user_001_1761600000.5",
        "user_001",
        "fact",
        "Long note: " + "lorem ipsum dolor " * 300,
        "",
        0.0,
        0.0,
        0,
        "{}",
        dt(base),
        None,
    ),
)
emotions = ["joy", "sadness", "anxiety", "anger", "excitement"]
for i, (uid, _, _) in enumerate(users):
    for e in random.sample(emotions, 3):
        intensity = (
            round(random.uniform(0.2, 0.95), 2) if i % 2 else round(random.uniform(20, 95), 1)
        )  # mixed scales
        c.execute(
            "INSERT INTO emotional_patterns VALUES (NULL,?,?,?,?,?,?,?,?)",
            (
                uid,
                e,
                random.randint(1, 30),
                intensity,
                json.dumps(random.sample(["work", "exams", "family", "música", "deadline"], 2)),
                json.dumps(
                    {f"{h:02d}:00": random.randint(1, 5) for h in random.sample(range(24), 3)}
                ),
                random.choice(["stable", "increasing", "decreasing"]),
                dt(base + timedelta(days=3, hours=i)),
            ),
        )
for i, (uid, _, _) in enumerate(users):
    msgs = (
        []
        if i == 2
        else [
            {
                "user": f"message {j} from {uid} — ça va?",
                "assistant": f"reply {j} 😊",
                "timestamp": (base + timedelta(minutes=j * 3)).isoformat(),
                "emotion": random.choice(emotions),
            }
            for j in range(random.randint(3, 10))
        ]
    )
    c.execute(
        "INSERT INTO conversation_contexts VALUES (NULL,?,?,?,?,?,?,?,?)",
        (
            uid,
            uid,
            json.dumps(msgs),
            json.dumps(["music", "travel"]),
            "joy",
            json.dumps(["neutral", "joy"]),
            dt(base + timedelta(days=2)),
            dt(base + timedelta(days=2, minutes=30)),
        ),
    )
c.commit()
c.close()


# browser exports: two overlapping exports for user_001, one for default
def rec(uid, n, e="joy"):
    return {
        "userId": uid,
        "userMessage": f"Hello #{n}, je suis fatigué 😴",
        "aiResponse": f"Rest well #{n} 🌙",
        "emotion": e,
        "timestamp": 1761597639000 + n * 60000,
        "id": n,
    }


exp1 = [rec("user_001", n) for n in range(1, 21)]
exp2 = [rec("user_001", n) for n in range(15, 31)]  # overlap 15..20
exp3 = [rec("default", n, "sadness") for n in range(1, 6)]
exp3.append(
    {
        "userId": "default",
        "userMessage": "bad record",
        "aiResponse": "x",
        "emotion": "joy",
        "timestamp": "not-a-number",
        "id": 99,
    }
)  # invalid
for name, data in [
    ("edgesoul-chats-user_001-2025-11-01.json", exp1),
    ("edgesoul-chats-user_001-2025-11-08.json", exp2),
    ("edgesoul-chats-default-2025-11-08.json", exp3),
]:
    with open(f"{root}/exports/{name}", "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=2, ensure_ascii=False))
print("wrote", root)
