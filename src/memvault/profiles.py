"""Profiles: EdgeSoul's user profile helpers over `users.profile` (personality levels, voice
preferences, interests, dislikes) and usage statistics computed from the sessions table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from memvault import validate as v
from memvault.domain import Domain
from memvault.emotions import normalise_intensity
from memvault.errors import InvalidInput, NotFound
from memvault.records import Profile, UsageStats
from memvault.store.base import Tx
from memvault.tools import for_update

VOICE_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "speed": lambda f, x: _positive(f, x),
    "pitch": lambda f, x: v.number_(f, x),
    "volume": lambda f, x: v.unit(f, x),
    "auto_speak": lambda f, x: _boolean(f, x),
    "voice": lambda f, x: v.text(f, x, max_len=200),
    "language": lambda f, x: v.text(f, x, max_len=50),
}


def _positive(field: str, value: Any) -> float:
    number = v.number_(field, value)
    if number <= 0:
        raise InvalidInput(field, value, "must be positive")
    return number


def _boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, value, "expected true or false")
    return value


class Profiles(Domain):
    """`vault.profiles`: EdgeSoul's user profile helpers over `users.profile` (personality
    levels, voice preferences, interests, dislikes) and exact usage statistics computed from
    the sessions table (whose message counts `messages.append/delete` keep exact)."""

    def get(self, user_id: str) -> Profile:
        """The user's profile, with usage statistics computed now."""
        user_id = v.id_("user_id", user_id)
        with self._store.read() as tx:
            row = tx.one("SELECT profile FROM users WHERE id = :id", {"id": user_id})
            if row is None:
                raise NotFound("user", user_id)
            profile = tx.json_out(row["profile"]) or {}
            usage = self._usage(tx, user_id)
        return Profile(
            user_id=user_id,
            personality=dict(profile.get("personality") or {}),
            voice=dict(profile.get("voice") or {}),
            interests=list(profile.get("interests") or []),
            dislikes=list(profile.get("dislikes") or []),
            usage=usage,
        )

    def usage(self, user_id: str) -> UsageStats:
        """Conversations, messages and average session length (messages and seconds)."""
        user_id = v.id_("user_id", user_id)
        with self._store.read() as tx:
            if tx.one("SELECT 1 FROM users WHERE id = :id", {"id": user_id}) is None:
                raise NotFound("user", user_id)
            return self._usage(tx, user_id)

    def _usage(self, tx: Tx, user_id: str) -> UsageStats:
        seconds = tx.seconds_between("COALESCE(ended_at, updated_at)", "started_at")
        row = tx.one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(message_count), 0) AS msgs, "
            f"AVG({seconds}) AS secs, MIN(started_at) AS first_at, "
            "MAX(updated_at) AS last_at FROM sessions WHERE user_id = :u",
            {"u": user_id},
        )
        assert row is not None
        n = int(row["n"])
        msgs = int(row["msgs"])
        return UsageStats(
            conversations=n,
            messages=msgs,
            avg_messages_per_session=msgs / n if n else 0.0,
            avg_session_seconds=float(row["secs"] or 0.0),
            first_session_at=tx.ts_out(row["first_at"]),
            last_activity_at=tx.ts_out(row["last_at"]),
        )

    def _patch(self, user_id: str, change: Callable[[dict[str, Any]], None]) -> Profile:
        user_id = v.id_("user_id", user_id)
        with self._store.write() as tx:
            row = tx.one(
                "SELECT profile FROM users WHERE id = :id" + for_update(tx),
                {"id": user_id},
            )
            if row is None:
                raise NotFound("user", user_id)
            profile = tx.json_out(row["profile"]) or {}
            change(profile)
            tx.execute(
                "UPDATE users SET profile = :p, updated_at = :now WHERE id = :id",
                {"p": tx.json(profile), "now": tx.ts(self._now()), "id": user_id},
            )
            self._emit(tx, "user.updated", user_id, {"user_id": user_id}, {"profile": True})
        return self.get(user_id)

    def set_personality(
        self, user_id: str, levels: Mapping[str, float], *, scale: float = 1.0
    ) -> Profile:
        """Merge personality levels (0–1, or 0–`scale`, e.g. scale=10 for 0–10 sliders)."""
        if not isinstance(levels, Mapping):
            raise InvalidInput("levels", levels, "expected a mapping of name to level")
        clean = {
            v.text("levels", k, max_len=200): normalise_intensity(x, scale, f"levels[{k!r}]")
            for k, x in levels.items()
        }
        return self._patch(user_id, lambda p: p.setdefault("personality", {}).update(clean))

    def set_voice(self, user_id: str, **prefs: Any) -> Profile:
        """Merge voice preferences: speed (>0), pitch, volume (0–1), auto_speak (bool), voice,
        language; other names are refused."""
        clean = {}
        for key, value in prefs.items():
            if key not in VOICE_FIELDS:
                raise InvalidInput("voice", key, f"expected one of {', '.join(VOICE_FIELDS)}")
            clean[key] = VOICE_FIELDS[key](f"voice.{key}", value)
        return self._patch(user_id, lambda p: p.setdefault("voice", {}).update(clean))

    def add_interests(self, user_id: str, *items: str) -> Profile:
        """Add interests (kept unique, in order); an interest stops being a dislike."""
        return self._edit_lists(user_id, "interests", "dislikes", items)

    def add_dislikes(self, user_id: str, *items: str) -> Profile:
        """Add dislikes (kept unique, in order); a dislike stops being an interest."""
        return self._edit_lists(user_id, "dislikes", "interests", items)

    def remove_interests(self, user_id: str, *items: str) -> Profile:
        return self._edit_lists(user_id, None, "interests", items)

    def remove_dislikes(self, user_id: str, *items: str) -> Profile:
        return self._edit_lists(user_id, None, "dislikes", items)

    def _edit_lists(
        self, user_id: str, add_to: str | None, remove_from: str, items: Iterable[str]
    ) -> Profile:
        clean = [v.text(add_to or remove_from, i, max_len=500).strip() for i in items]
        folded = {c.casefold() for c in clean}

        def change(profile: dict[str, Any]) -> None:
            profile[remove_from] = [
                x for x in profile.get(remove_from) or [] if str(x).casefold() not in folded
            ]
            if add_to is not None:
                current = list(profile.get(add_to) or [])
                known = {str(x).casefold() for x in current}
                for item in clean:
                    if item.casefold() not in known:
                        current.append(item)
                        known.add(item.casefold())
                profile[add_to] = current

        return self._patch(user_id, change)
