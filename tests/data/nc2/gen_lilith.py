"""Generate a Lilith working folder: response_patterns.json (default tenant), data/base/patterns.json,
data/users/<id>/response_patterns.json, data/servers/<guild>/{patterns,settings}.json."""

import json, os, random, sys

root = sys.argv[1]
random.seed(3)
intents = {
    "greeting": [
        ("hello", "Hello there! 👋"),
        ("bonjour", "Bonjour ! Ça va ?"),
        ("hi", "Hi, how can I help?"),
    ],
    "farewell": [("bye", "Goodbye, take care!"), ("à plus", "À plus tard ! 😊")],
    "question_info": [
        ("what is python", "Python is a programming language."),
        ("qu'est-ce que l'IA", "L'IA, c'est l'intelligence artificielle."),
    ],
    "general": [
        ("tell me a joke", "Why did the chicken cross the road? 🐔"),
        ("日本語", "日本語を話せます"),
    ],
}


def seeds():
    out = []
    for it, pairs in intents.items():
        for n, (trig, resp) in enumerate(pairs):
            out.append(
                {
                    "fragment_id": f"seed_{it}_{n}",
                    "trigger_context": trig,
                    "response_text": resp,
                    "success_score": 0.5,
                    "intent": it,
                    "usage_count": 0,
                    "embedding_cache": None,
                }
            )
    return out


def learned(prefix, k):
    out = []
    for n in range(k):
        it = random.choice(list(intents))
        out.append(
            {
                "fragment_id": f"pattern_{it}_{9 + n}",
                "trigger_context": f"{prefix} trigger {n} café",
                "response_text": f"{prefix} réponse {n} ✨",
                "success_score": round(random.uniform(0.1, 1), 3),
                "intent": it,
                "usage_count": random.randint(0, 40),
                "embedding_cache": None,
            }
        )
    return out


def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(data, indent=2))  # ensure_ascii=True, no trailing newline


main = seeds() + learned("default", 25)
main.append(
    {"fragment_id": "pattern_general_99", "trigger_context": "old", "response_text": "old answer"}
)  # missing defaults
main.append(
    {
        "fragment_id": "pattern_general_99",
        "trigger_context": "weather",
        "response_text": "It is sunny ☀️",
        "success_score": 0.8,
        "intent": "general",
        "usage_count": 3,
        "embedding_cache": None,
    }
)  # id reuse: later wins
main.append(
    {"fragment_id": "pattern_bad_1", "trigger_context": 42, "response_text": "number trigger"}
)  # invalid
main.append(
    {
        "fragment_id": "pattern_emb_1",
        "trigger_context": "with vector",
        "response_text": "vec",
        "success_score": 0.6,
        "intent": "general",
        "usage_count": 1,
        "embedding_cache": [round(random.uniform(-1, 1), 4) for _ in range(64)],
    }
)
write(f"{root}/response_patterns.json", main)
write(f"{root}/data/base/patterns.json", seeds() + learned("base", 15))
for uid in ["alice", "josé", "李"]:
    write(f"{root}/data/users/{uid}/response_patterns.json", seeds() + learned(uid, 10))
for g in ["123456789012345678", "987654321098765432"]:
    write(f"{root}/data/servers/{g}/patterns.json", seeds() + learned(f"guild{g[:3]}", 8))
    write(
        f"{root}/data/servers/{g}/settings.json",
        {
            "guild_id": g,
            "guild_name": f"Serveur {g[:3]} 🎮",
            "passive_listening": False,
            "passive_channels": [],
            "learning_enabled": True,
            "teaching_roles": ["mod"],
            "response_prefix": "!",
            "min_confidence": 0.6,
            "created_at": "2025-11-20T10:00:00.123456",
            "updated_at": "2025-11-21T10:00:00",
        },
    )
print("wrote", root)
