import sqlite3, json, sys

root = sys.argv[1]
c = sqlite3.connect(f"{root}/backend/data/edgesoul.db")
c.execute(
    "UPDATE memories SET content='Lives in Genève now (moved)', confidence=0.99 WHERE content='Lives in Zürich (note 9)'"
)
c.execute(
    "INSERT INTO memories (memory_id,user_id,memory_type,content,confidence,importance,access_count,created_at) VALUES ('user_001_1761700000.1','user_001','fact','Adopted a cat named Mochi 🐱',0.9,0.8,0,'2025-11-02 10:00:00.000000')"
)
c.execute("UPDATE user_profiles SET humor_level=95, name='Navin K.' WHERE user_id='user_001'")
c.execute(
    "UPDATE emotional_patterns SET frequency=frequency+5, trend='increasing' WHERE user_id='user_001' AND emotion='joy'"
)
c.execute("DELETE FROM memories WHERE content='Greets with ''yo''' AND user_id='default'")
c.commit()
recs = [
    {
        "userId": "user_001",
        "userMessage": f"Nouveau message {n} ✨",
        "aiResponse": f"Réponse {n}",
        "emotion": "joy",
        "timestamp": 1762000000000 + n * 1000,
        "id": n,
    }
    for n in range(31, 36)
]
open(f"{root}/exports/edgesoul-chats-user_001-2025-11-15.json", "w").write(
    json.dumps(recs, indent=2, ensure_ascii=False)
)
