"""Structured answers (`wai ask --json-mode` / `--schema`): the `response_format` to send, and
the check that the answer is the JSON that was asked for.

`--schema SCHEMA` takes three forms:

- a JSON schema, written out: `'{"type": "object", ...}'` (any text that starts with `{`);
- `@FILE`: a file holding a JSON schema;
- fields, as llm writes them: `'name, age int, bio: a short bio'`. Each field is
  `NAME [TYPE] [: description]`, TYPE one of str, int, float, bool (str when left out); every
  field is required. Fields are separated by commas, or by newlines when the text has any: then
  a description may hold commas, and blank lines are skipped.

`jsonschema` is imported only here, inside the functions that need it: `wai --help` and a plain
`wai ask` never load it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wai.errors import UsageError, WaiError

FIELD_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
DEFAULT_NAME = "answer"  # the envelope's `name` when the schema has no usable `title`
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
SCHEMA_FORMS = (
    "give a JSON schema ('{\"type\": \"object\", ...}'), @FILE, or fields ('name, age int')"
)
COMMA_IN_DESCRIPTION = (
    "a comma ends a field, also in a description: for commas in descriptions, "
    "put each field on a line of its own"
)
MESSAGE_LIMIT = 300  # a validator's message quotes the value: a whole answer, at worst

JSON_OBJECT: Mapping[str, Any] = {"type": "json_object"}


def response_format(
    *, json_mode: bool, schema: str | None, raw: bool = False
) -> dict[str, Any] | None:
    """The request's `response_format` (OpenAI's shape) for `--json-mode` or `--schema`, or None
    for neither. A schema that cannot be read or parsed is a UsageError."""
    if json_mode and schema is not None:
        raise UsageError(
            "--json-mode and --schema cannot be used together (--schema asks for JSON already)"
        )
    if raw and (json_mode or schema is not None):
        # Workers AI documents JSON mode for messages only, and a raw prompt on an
        # OpenAI-compatible server goes to /v1/completions, which has no response_format.
        option = "--json-mode" if json_mode else "--schema"
        raise UsageError(f"{option} cannot be used with --raw: JSON mode needs messages")
    if json_mode:
        return dict(JSON_OBJECT)
    if schema is None:
        return None
    parsed = parse_schema(schema)
    return {
        "type": "json_schema",
        "json_schema": {"name": schema_name(parsed), "schema": parsed, "strict": True},
    }


def schema_of(response_format: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON schema inside a `response_format` made by `response_format`, if any."""
    if response_format is None or response_format.get("type") != "json_schema":
        return None
    return response_format["json_schema"]["schema"]


def parse_schema(text: str) -> dict[str, Any]:
    """The JSON schema `--schema` gave: written out, from @FILE, or from concise fields."""
    stripped = text.strip()
    if stripped.startswith("@"):
        return _schema_from_file(Path(stripped[1:]).expanduser())
    if stripped.startswith("{"):
        return _checked_schema(_json_schema(stripped, "--schema"), "--schema")
    return concise_schema(text)


def _schema_from_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read the schema file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the schema file {path} is not UTF-8 text") from None
    where = f"the schema file {path}"
    return _checked_schema(_json_schema(text, where), where)


def _json_schema(text: str, where: str) -> dict[str, Any]:
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"{where} is not valid JSON: {error}", hint=SCHEMA_FORMS) from None
    if not isinstance(schema, dict):
        raise UsageError(f"{where} must be a JSON object (a schema), not {_json_kind(schema)}")
    return schema


def _checked_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """`schema` once its own draft's meta-schema accepts it: a typo (`"type": "objet"`) is the
    user's to fix before anything is sent."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as error:
        raise UsageError(
            f"{where} is not a valid JSON schema: {_short(error.message)} (at {error.json_path})"
        ) from None
    return schema


def concise_schema(text: str) -> dict[str, Any]:
    """An object schema from fields such as `name, age int, bio: a short bio` (see the module's
    docstring); every field is required. A bad field is a UsageError that names it."""
    if not text.strip():
        raise UsageError("--schema is empty", hint=SCHEMA_FORMS)
    # Newlines, when there are any, are the only separators: descriptions may then hold commas.
    multiline = "\n" in text.strip()
    pieces = text.strip().splitlines() if multiline else text.split(",")
    properties: dict[str, dict[str, str]] = {}
    for number, piece in enumerate(pieces, start=1):
        if not piece.strip():
            if multiline:
                continue  # a blank line is layout
            raise UsageError(
                f"--schema field {number} is empty", hint="separate fields with single commas"
            )
        try:
            name, prop = _field(piece, number)
        except UsageError as error:
            if not multiline and ":" in "".join(pieces[: number - 1]):
                error.hint = COMMA_IN_DESCRIPTION  # the likelier mistake: say so
            raise
        if name in properties:
            raise UsageError(f"--schema field {number}: {name!r} is given twice")
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": list(properties)}


def _field(piece: str, number: int) -> tuple[str, dict[str, str]]:
    """One concise field, `NAME [TYPE] [: description]`: its name and its property."""
    head, colon, description = piece.partition(":")
    words = head.split()
    where = f"--schema field {number} ({piece.strip()!r})"
    if not words:
        raise UsageError(f"{where} has no name", hint="write NAME [TYPE] [: description]")
    if len(words) > 2:
        raise UsageError(
            f"{where}: expected NAME [TYPE] [: description], got {len(words)} words before "
            "the description",
            hint="a name is one word (use _ between words); a description follows a colon",
        )
    name = words[0]
    if not FIELD_NAME.fullmatch(name):
        raise UsageError(
            f"{where}: {name!r} is not a field name (letters, digits, _ and -, not first a digit)"
        )
    kind = words[1] if len(words) == 2 else "str"
    if kind not in FIELD_TYPES:
        raise UsageError(f"{where}: unknown type {kind!r} (use {', '.join(FIELD_TYPES)})")
    prop = {"type": FIELD_TYPES[kind]}
    if colon and description.strip():
        prop["description"] = description.strip()
    return name, prop


def schema_name(schema: Mapping[str, Any]) -> str:
    """The envelope's `name`: the schema's `title` made a name OpenAI takes
    (`[a-z0-9_-]{1,64}`, e.g. "Country facts" -> "country_facts"), else "answer"."""
    title = schema.get("title")
    if not isinstance(title, str):
        return DEFAULT_NAME
    slug = re.sub(r"[^a-z0-9_-]+", "_", title.lower()).strip("_-")[:64]
    return slug or DEFAULT_NAME


def check_answer(text: str, schema: Mapping[str, Any] | None, *, hint: str | None = None) -> Any:
    """The answer parsed as JSON, and matching `schema` when one is given; else a WaiError
    (exit 1) naming what is wrong, with `hint`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise WaiError(f"the answer is not valid JSON: {error}", hint=hint) from None
    if schema is not None:
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for

        # best_match: the error `jsonschema.validate` would raise, the most relevant one.
        error = best_match(validator_for(schema)(schema).iter_errors(value))
        if error is not None:
            raise WaiError(
                "the answer does not match the schema: "
                f"{_short(error.message)} (at {error.json_path})",
                hint=hint,
            )
    return value


def kept_hint(session: str | None) -> str:
    """Where the user may read an answer that failed its check."""
    if session:
        return f"ask again; the raw answer is kept: `wai sessions show {session}`"
    return "ask again (the raw answer was not saved)"


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 1] + "…"


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")
