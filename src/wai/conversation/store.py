"""Session documents: one JSON file per conversation, changed under a lock, written atomically."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wai.atomic import write_atomic, write_refused
from wai.errors import ConfigError, UsageError, WaiError
from wai.settings.paths import data_dir

FORMAT = "wai.session/1"
SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")
NAME_WORDS = 6
NAME_LENGTH = 48
MAX_NAME_LENGTH = 100  # a file name stays well within every file system's limit (255 bytes)
ROOM_FOR_AN_ANSWER = 16 * 1024  # what a turn's check asks the disk for, beyond the session


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_affinity() -> str:
    """A session's id for Workers AI's prompt cache (`x-session-affinity`): random, kept.
    (os.urandom, not `secrets`: that module costs ~4 ms of start-up, for the same bytes.)"""
    return f"ses_{os.urandom(8).hex()}"


@dataclass
class Session:
    name: str
    created: str = field(default_factory=now)
    updated: str = ""
    backend: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # keys a newer wai may have added
    affinity: str = field(default_factory=new_affinity)  # the same replica for every turn
    # Created by a one-shot `wai ask`, so that `wai sessions prune --one-shots` can find the
    # questions nobody followed up on (files from before this mark have none: never one-shots)
    one_shot: bool = False

    def __post_init__(self) -> None:
        self.updated = self.updated or self.created

    # --- reading the conversation ---

    @property
    def system(self) -> str | None:
        if self.messages and self.messages[0].get("role") == "system":
            return str(self.messages[0]["content"])
        return None

    def set_system(self, text: str | None) -> None:
        if self.system is not None:
            del self.messages[0]
        if text:
            self.messages.insert(0, {"role": "system", "content": text})

    @property
    def turns(self) -> int:
        return sum(1 for message in self.messages if message.get("role") == "user")

    @property
    def turns_text(self) -> str:
        return f"{self.turns} turn{'' if self.turns == 1 else 's'}"

    @property
    def title(self) -> str:
        first = next((m for m in self.messages if m.get("role") == "user"), None)
        words = " ".join(str(first["content"]).split()) if first else ""
        return words if len(words) <= 60 else words[:59] + "…"

    def last_exchange_index(self) -> int:
        """Where the last exchange (the last user message and what follows it) starts."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].get("role") == "user":
                return index
        raise UsageError("there is no exchange yet")

    def drop_last_exchange(self) -> None:
        del self.messages[self.last_exchange_index() :]

    def last_reasoning(self) -> str:
        """The reasoning kept with the last answer, "" if it had none; a UsageError if there is
        no answer yet."""
        for message in reversed(self.messages):
            if message["role"] == "assistant":
                return reasoning_of(message)
        raise UsageError("there is no answer yet")

    def scoped_messages(self) -> list[dict[str, str]]:
        """The messages without `meta`: what Workers AI accepts as-is."""
        return [{"role": m["role"], "content": m["content"]} for m in self.messages]

    # --- the document ---

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "created": self.created,
            "updated": self.updated,
            "backend": self.backend,
            "model": self.model,
            "params": self.params,
            "affinity": self.affinity,
            **({"one_shot": True} if self.one_shot else {}),
            "messages": self.messages,
            **self.extra,
        }

    @classmethod
    def from_document(cls, document: Any, path: Path) -> Session:
        if not isinstance(document, dict):
            raise _broken(path, "not a JSON object")
        version = document.get("format")
        if version != FORMAT:
            if isinstance(version, str) and version.startswith("wai.session/"):
                raise ConfigError(
                    f"{path} is a session in format {version}, newer than this wai understands "
                    f"({FORMAT})",
                    hint="upgrade wai to open it; the file was left untouched",
                )
            raise _broken(path, f"unknown format {version!r}")
        messages = document.get("messages")
        if not isinstance(messages, list) or not all(_is_message(m) for m in messages):
            raise _broken(path, "messages must be a list of {role, content} objects")
        if not isinstance(document.get("params") or {}, dict):
            raise _broken(path, "params must be an object")
        for key in ("backend", "model", "created", "updated"):
            if not isinstance(document.get(key), str | None):
                raise _broken(path, f"{key} must be a string")
        known = {
            "format", "name", "created", "updated", "backend", "model", "params", "affinity",
            "one_shot", "messages",
        }  # fmt: skip
        affinity = document.get("affinity")
        return cls(
            name=path.stem,
            created=str(document.get("created") or now()),
            updated=str(document.get("updated") or ""),
            backend=document.get("backend"),
            model=document.get("model"),
            params=dict(document.get("params") or {}),
            messages=messages,
            extra={k: v for k, v in document.items() if k not in known},
            # A session saved before wai kept one gets one now, written with its next turn.
            affinity=affinity if isinstance(affinity, str) and affinity else new_affinity(),
            one_shot=document.get("one_shot") is True,
        )


def reasoning_of(message: dict[str, Any]) -> str:
    """The reasoning kept in an answer's `meta`, "" if none."""
    meta = message.get("meta")
    reasoning = meta.get("reasoning") if isinstance(meta, dict) else None
    return reasoning if isinstance(reasoning, str) else ""


def _is_message(message: Any) -> bool:
    return (
        isinstance(message, dict)
        and isinstance(message.get("role"), str)
        and isinstance(message.get("content"), str)
    )


def _broken(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"cannot read the session file {path}: {why}",
        hint="fix or move the file by hand; wai will not overwrite it",
    )


def _unknown(name: str) -> UsageError:
    return UsageError(
        f"no session named {name!r}",
        hint="`wai sessions list` shows the sessions",
        repl_hint="/sessions lists them",
    )


def check_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(
            f"invalid session name {name[:20]}…: {len(name)} characters, at most {MAX_NAME_LENGTH}",
            hint="choose a shorter name",
        )
    if not SLUG.fullmatch(name):
        raise UsageError(
            f"invalid session name {name!r}",
            hint="use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
        )
    return name


def name_from(text: str, when: datetime | None = None) -> str:
    """A slug from the date and the first words of `text`: 2026-11-26-why-is-the-sky-blue."""
    when = when or datetime.now()
    words = re.findall(r"[a-z0-9]+", text.lower())[:NAME_WORDS]
    slug = "-".join([when.strftime("%Y-%m-%d"), *words])
    return slug[:NAME_LENGTH].rstrip("-._")


def parse_time(stamp: str) -> datetime | None:
    """A `created` or `updated` value as an aware datetime (naive means UTC); None if unreadable."""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


LONG_AGO = datetime.min.replace(tzinfo=UTC)


class SessionStore:
    def __init__(self, directory: Path | None = None):
        self.directory = directory or data_dir() / "sessions"
        for checked in (self.directory.parent, self.directory) if directory is None else ():
            refuse_world_writable(checked)

    def path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.json"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def load(self, name: str) -> Session:
        path = self.path(name)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise _unknown(name) from None
        except OSError as error:
            raise _broken(path, error.strerror or str(error)) from None
        try:
            document = json.loads(raw)
        except ValueError as error:
            raise _broken(path, f"not valid JSON ({error})") from None
        return Session.from_document(document, path)

    def unique_name(self, base: str) -> str:
        name, counter = base, 2
        while self.path(name).exists():
            name = f"{base}-{counter}"
            counter += 1
        return name

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the sessions' lock: one process at a time reads, changes and writes a session.
        (Writes take milliseconds, so one lock for the directory costs nothing.)"""
        path = self.directory / ".lock"
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(path, flags, 0o600)
        except OSError as error:
            if os.path.islink(path):
                raise ConfigError(
                    f"{path} is a symbolic link; wai will not follow it",
                    hint="remove it: wai makes its own lock file there",
                ) from None
            raise write_refused(path, error, "WAI_DATA_DIR") from None
        with open(fd, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def check_writable(self, session: Session, more: int = 0) -> None:
        """Before a turn is paid for: room in the sessions' directory for `session` saved with
        `more` bytes and an answer, and a writable file system. A ConfigError when not."""
        need = len(self._text(session).encode()) + more + ROOM_FOR_AN_ANSWER
        target = self.directory / f"{session.name}.json" if session.name else self.directory
        with self.locked():
            try:
                fd, probe = tempfile.mkstemp(prefix=".probe.", suffix=".tmp", dir=self.directory)
            except OSError as error:
                raise write_refused(target, error, "WAI_DATA_DIR") from None
            try:
                os.posix_fallocate(fd, 0, need)
            except OSError as error:
                if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise write_refused(target, error, "WAI_DATA_DIR") from None
            finally:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(probe)

    def update(self, session: Session, change: Callable[[Session], None]) -> Session:
        """Apply `change` to the file's current state (or to `session` if there is no file yet),
        save it atomically, and return the saved session. Turns another process appended
        meanwhile are kept, since the change is applied to what is on disk."""
        with self.locked():
            current = self.load(session.name) if self.exists(session.name) else session
            change(current)
            current.updated = now()
            self._write(current)
        return current

    def create(self, session: Session, change: Callable[[Session], None]) -> Session:
        """Save a new session under its name, or the name with -2, -3... if that is taken."""
        with self.locked():
            session.name = self.unique_name(session.name)
            change(session)
            session.updated = now()
            self._write(session)
        return session

    def _text(self, session: Session) -> str:
        """The session's JSON document; a WaiError for a value JSON cannot hold (NaN)."""
        try:
            text = json.dumps(session.to_document(), ensure_ascii=False, indent=2, allow_nan=False)
        except ValueError:
            raise WaiError(
                f"cannot save the session {session.name or '(new)'}: it holds a number JSON "
                "cannot store (NaN or infinity)",
                hint="its file was left as it was",
            ) from None
        return text + "\n"

    def _write(self, session: Session) -> None:
        path = self.path(session.name)
        text = self._text(session)
        try:
            write_atomic(path, text.encode("utf-8"), mode=0o600)
        except OSError as error:
            raise write_refused(path, error, "WAI_DATA_DIR") from None

    def all(self) -> list[Session]:
        """Every readable session, most recently updated first; broken files are skipped."""
        return self.scan()[0]

    def scan(self) -> tuple[list[Session], list[ConfigError]]:
        """Like `all`, and also the errors of the files that could not be read (each names its
        path). Sessions updated at the same moment are ordered by name."""
        sessions: list[Session] = []
        problems: list[ConfigError] = []
        for path in sorted(self.directory.glob("*.json")):
            if not SLUG.fullmatch(path.stem):
                continue
            try:
                sessions.append(self.load(path.stem))
            except UsageError:
                continue  # removed since the directory was listed
            except ConfigError as error:
                problems.append(error)
        sessions.sort(key=lambda s: parse_time(s.updated) or LONG_AGO, reverse=True)
        return sessions, problems

    def existing(self, name: str) -> Path:
        """The file of the session `name`; a UsageError when there is no such session."""
        path = self.directory / f"{name}.json"
        if not SLUG.fullmatch(name) or not path.exists():
            raise _unknown(name)
        return path

    def names(self) -> list[str]:
        """The names of the session files, the most recently written first (from the listing
        alone: no file is read)."""
        files = [path for path in self.directory.glob("*.json") if SLUG.fullmatch(path.stem)]
        return [path.stem for path in sorted(files, key=_written, reverse=True)]

    def most_recent(self) -> Session:
        """The most recently updated session. When the newest file cannot be read, that is an
        error: continuing an older conversation instead would be a silent surprise."""
        names = self.names()
        if names:
            self.load(names[0])
        sessions = self.all()
        if not sessions:
            raise UsageError(
                "there is no session to continue yet", hint='start one with `wai ask "..."`'
            )
        return sessions[0]

    def rename(self, old: str, new: str) -> Session:
        check_name(new)
        with self.locked():
            session = self.load(old)
            if self.exists(new):
                raise UsageError(f"a session named {new!r} exists already")
            session.name = new
            self._write(session)
            self.path(old).unlink()
        return session

    def remove_if(self, name: str, still: Callable[[Session], bool]) -> bool:
        """Delete the session `name` if `still` holds for it as read under the lock, so that a
        session another process continued since it was chosen is kept. Whether it was removed
        (not when it changed, went or can no longer be read meanwhile)."""
        with self.locked():
            try:
                session = self.load(name)
            except WaiError:
                return False
            if not still(session):
                return False
            self.path(name).unlink()
        return True

    def remove(self, name: str) -> None:
        """Delete a session file (a broken one too: removing is how a user gets rid of it)."""
        with self.locked():
            try:
                self.path(name).unlink()
            except FileNotFoundError:
                raise _unknown(name) from None


def refuse_world_writable(directory: Path) -> None:
    """A ConfigError when anyone may write in `directory` (and it has no sticky bit): another
    user could replace or plant sessions there."""
    try:
        mode = directory.stat().st_mode
    except OSError:
        return  # not there yet: wai makes it, mode 0700
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        raise ConfigError(
            f"{directory} is writable by everyone (mode {stat.S_IMODE(mode):04o}); wai will not "
            "keep sessions there",
            hint=f"run chmod o-w {directory}",
        )


def _written(path: Path) -> float:
    """When the file was last written; a file gone since it was listed counts as the oldest."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
