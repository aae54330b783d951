"""Structured answers: `--schema`'s three forms, the response_format they make, and the check of
the answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wai.conversation.structured import (
    check_answer,
    concise_schema,
    kept_hint,
    parse_schema,
    response_format,
    schema_name,
    schema_of,
)
from wai.errors import EXIT_BACKEND, EXIT_USAGE, UsageError, WaiError


def obj(properties: dict[str, Any]) -> dict[str, Any]:
    """The object schema of concise fields: every one required, in order."""
    return {"type": "object", "properties": properties, "required": list(properties)}


STRING = {"type": "string"}


# --- the concise form ---


@pytest.mark.parametrize(
    ("text", "properties"),
    [
        ("name", {"name": STRING}),
        ("name str", {"name": STRING}),
        (
            "name, age int, height float, alive bool",
            {
                "name": STRING,
                "age": {"type": "integer"},
                "height": {"type": "number"},
                "alive": {"type": "boolean"},
            },
        ),
        (
            "name, age int, tags: a list of short tags",
            {
                "name": STRING,
                "age": {"type": "integer"},
                "tags": {"type": "string", "description": "a list of short tags"},
            },
        ),
        (
            "age int: in years",
            {"age": {"type": "integer", "description": "in years"}},
        ),
        # whitespace around everything is layout
        (
            "  name ,\tage   int  :   in years  ,bio:a short bio ",
            {
                "name": STRING,
                "age": {"type": "integer", "description": "in years"},
                "bio": {"type": "string", "description": "a short bio"},
            },
        ),
        # a colon with nothing after it adds no description
        ("name:", {"name": STRING}),
        ("name str :  ", {"name": STRING}),
        # only the first colon ends the name: a description may hold more
        ("when: a time as HH:MM", {"when": {"type": "string", "description": "a time as HH:MM"}}),
        ("snake_case, kebab-case, _private", {"snake_case": STRING, "kebab-case": STRING,
                                              "_private": STRING}),
    ],
)  # fmt: skip
def test_concise_fields(text: str, properties: dict[str, Any]) -> None:
    assert concise_schema(text) == obj(properties)


def test_newlines_separate_fields_and_leave_commas_to_descriptions() -> None:
    text = "\nname: the full name, as written\n\nage int: in years, rounded down\n  tags  \n"
    assert concise_schema(text) == obj(
        {
            "name": {"type": "string", "description": "the full name, as written"},
            "age": {"type": "integer", "description": "in years, rounded down"},
            "tags": STRING,
        }
    )


def test_a_comma_in_a_description_starts_a_field_and_the_error_says_so() -> None:
    with pytest.raises(UsageError) as caught:
        concise_schema("name, when: a time, as HH:MM")
    assert caught.value.message == (
        "--schema field 3 ('as HH:MM'): unknown type 'HH' (use str, int, float, bool)"
    )
    assert caught.value.hint == (
        "a comma ends a field, also in a description: for commas in descriptions, "
        "put each field on a line of its own"
    )


def test_windows_line_ends_separate_fields_too() -> None:
    assert concise_schema("name\r\nage int\r\n") == obj(
        {"name": STRING, "age": {"type": "integer"}}
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name, age integer", "--schema field 2 ('age integer'): unknown type 'integer' "
                              "(use str, int, float, bool)"),
        ("name, age Int", "--schema field 2 ('age Int'): unknown type 'Int' "
                          "(use str, int, float, bool)"),
        ("name,, age", "--schema field 2 is empty"),
        ("name, age,", "--schema field 3 is empty"),
        (",name", "--schema field 1 is empty"),
        ("", "--schema is empty"),
        ("   ", "--schema is empty"),
        ("\n\n", "--schema is empty"),
        ("first name, age", "--schema field 1 ('first name'): unknown type 'name' "
                            "(use str, int, float, bool)"),
        ("full name str", "--schema field 1 ('full name str'): expected NAME [TYPE] "
                          "[: description], got 3 words before the description"),
        (": a description", "--schema field 1 (': a description') has no name"),
        ("name, 2nd", "--schema field 2 ('2nd'): '2nd' is not a field name (letters, digits, "
                      "_ and -, not first a digit)"),
        ("na;me", "--schema field 1 ('na;me'): 'na;me' is not a field name (letters, digits, "
                  "_ and -, not first a digit)"),
        ("name, age int, name", "--schema field 3: 'name' is given twice"),
        ("name\nage int\nbad type x", "--schema field 3 ('bad type x'): expected NAME [TYPE] "
                                      "[: description], got 3 words before the description"),
    ],
)  # fmt: skip
def test_bad_concise_fields_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        concise_schema(text)
    assert caught.value.message == message
    assert caught.value.exit_code == EXIT_USAGE


# --- the three forms ---


def test_a_written_schema_is_taken_as_it_is() -> None:
    schema = {
        "type": "object",
        "properties": {"languages": {"type": "array", "items": {"type": "string"}}},
        "required": ["languages"],
    }
    assert parse_schema(json.dumps(schema)) == schema
    assert parse_schema(f"\n  {json.dumps(schema, indent=2)}\n") == schema


def test_a_schema_file(tmp_path: Path) -> None:
    schema = {"title": "Country", "type": "object", "properties": {"name": {"type": "string"}}}
    path = tmp_path / "country.json"
    path.write_text(json.dumps(schema))
    assert parse_schema(f"@{path}") == schema


def test_a_schema_file_under_home(tmp_path: Path) -> None:
    home = tmp_path / "home"  # the `isolated` fixture's HOME
    (home / "schema.json").write_text('{"type": "object"}')
    assert parse_schema("@~/schema.json") == {"type": "object"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "object",}', "--schema is not valid JSON: Expecting property name enclosed "
                                "in double quotes: line 1 column 19 (char 18)"),
        ("{", "--schema is not valid JSON: Expecting property name enclosed in double quotes: "
              "line 1 column 2 (char 1)"),
        ('{"type": "objet"}', "--schema is not a valid JSON schema: 'objet' is not valid under "
                              "any of the given schemas (at $.type)"),
        ('{"required": "name"}', "--schema is not a valid JSON schema: 'name' is not of type "
                                 "'array' (at $.required)"),
    ],
)  # fmt: skip
def test_bad_written_schemas_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_schema(text)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{nope", "is not valid JSON: Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1)"),
        ("name, age int", "is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[]", "must be a JSON object (a schema), not an array"),
        ('"object"', "must be a JSON object (a schema), not a string"),
        ('{"type": 3}', "is not a valid JSON schema: 3 is not valid under any of the given "
                        "schemas (at $.type)"),
    ],
)  # fmt: skip
def test_bad_schema_files_name_their_path(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "schema.json"
    path.write_text(content)
    with pytest.raises(UsageError) as caught:
        parse_schema(f"@{path}")
    assert caught.value.message == f"the schema file {path} {message}"


def test_a_missing_schema_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        parse_schema(f"@{tmp_path}/missing.json")
    assert caught.value.message == (
        f"cannot read the schema file {tmp_path}/missing.json: No such file or directory"
    )


def test_a_schema_file_that_is_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=rf"^cannot read the schema file {tmp_path}: "):
        parse_schema(f"@{tmp_path}")


def test_a_schema_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_bytes(b'{"title": "caf\xe9"}')
    with pytest.raises(UsageError) as caught:
        parse_schema(f"@{path}")
    assert caught.value.message == f"the schema file {path} is not UTF-8 text"


# --- response_format ---


def test_json_mode_asks_for_a_json_object() -> None:
    assert response_format(json_mode=True, schema=None) == {"type": "json_object"}


def test_neither_asks_for_nothing() -> None:
    assert response_format(json_mode=False, schema=None) is None


def test_a_schema_goes_in_openais_envelope() -> None:
    made = response_format(json_mode=False, schema="name, age int")
    schema = obj({"name": STRING, "age": {"type": "integer"}})
    assert made == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert schema_of(made) == schema
    assert schema_of({"type": "json_object"}) is None
    assert schema_of(None) is None


@pytest.mark.parametrize(
    ("schema", "name"),
    [
        ({"type": "object"}, "answer"),
        ({"title": "Country"}, "country"),
        ({"title": "Country facts (2026)!"}, "country_facts_2026"),
        ({"title": "snake_case-and-kebab"}, "snake_case-and-kebab"),
        ({"title": "Été à Paris"}, "t_paris"),  # OpenAI takes ASCII names only
        ({"title": "!!!"}, "answer"),
        ({"title": ""}, "answer"),
        ({"title": 3}, "answer"),
        ({"title": "x" * 80}, "x" * 64),
    ],
)
def test_the_envelopes_name_is_the_schemas_title_made_a_name(
    schema: dict[str, Any], name: str
) -> None:
    assert schema_name(schema) == name


@pytest.mark.parametrize(
    ("json_mode", "schema", "raw", "message"),
    [
        (True, "name", False, "--json-mode and --schema cannot be used together "
                              "(--schema asks for JSON already)"),
        (True, None, True, "--json-mode cannot be used with --raw: JSON mode needs messages"),
        (False, "name", True, "--schema cannot be used with --raw: JSON mode needs messages"),
    ],
)  # fmt: skip
def test_conflicting_options_are_usage_errors(
    json_mode: bool, schema: str | None, raw: bool, message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        response_format(json_mode=json_mode, schema=schema, raw=raw)
    assert caught.value.message == message


# --- the check of the answer ---

SCHEMA = obj({"name": STRING, "age": {"type": "integer"}})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"name": "Ada", "age": 36}', {"name": "Ada", "age": 36}),
        ('\n  {"name": "Ada",\n "age": 36}\n', {"name": "Ada", "age": 36}),
        ('{"name": "Ada", "age": 36, "extra": true}', {"name": "Ada", "age": 36, "extra": True}),
    ],
)
def test_an_answer_that_matches_is_its_value(text: str, value: Any) -> None:
    assert check_answer(text, SCHEMA) == value


def test_json_mode_takes_any_json() -> None:
    assert check_answer("[1, 2]", None) == [1, 2]
    assert check_answer('"text"', None) == "text"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello, world!", "the answer is not valid JSON: Expecting value: line 1 column 1 "
                          "(char 0)"),
        ('{"name": "Ada"', "the answer is not valid JSON: Expecting ',' delimiter: line 1 "
                           "column 15 (char 14)"),
        ("```json\n{}\n```", "the answer is not valid JSON: Expecting value: line 1 column 1 "
                             "(char 0)"),
    ],
)  # fmt: skip
def test_an_answer_that_is_not_json_is_an_error(text: str, message: str) -> None:
    with pytest.raises(WaiError) as caught:
        check_answer(text, None, hint="the hint")
    assert (caught.value.message, caught.value.hint) == (message, "the hint")
    assert caught.value.exit_code == EXIT_BACKEND


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"name": "Ada", "age": "36"}, "'36' is not of type 'integer' (at $.age)"),
        ({"name": "Ada"}, "'age' is a required property (at $)"),
        ([], "[] is not of type 'object' (at $)"),
        (
            {"name": "Ada", "age": 36, "pets": [{"kind": 3}]},
            "3 is not of type 'string' (at $.pets[0].kind)",
        ),
    ],
)
def test_an_answer_that_does_not_match_is_an_error(value: Any, message: str) -> None:
    schema = {
        **SCHEMA,
        "properties": {
            **SCHEMA["properties"],
            "pets": {"type": "array", "items": {"properties": {"kind": {"type": "string"}}}},
        },
    }
    with pytest.raises(WaiError) as caught:
        check_answer(json.dumps(value), schema)
    assert caught.value.message == f"the answer does not match the schema: {message}"
    assert caught.value.exit_code == EXIT_BACKEND


def test_a_long_mismatch_message_is_cut() -> None:
    with pytest.raises(WaiError) as caught:
        check_answer(json.dumps(["x" * 1000]), SCHEMA)
    message = caught.value.message.removeprefix("the answer does not match the schema: ")
    assert message.endswith("… (at $)")
    assert len(message) == 300 + len(" (at $)")


def test_the_hint_says_where_the_answer_is_kept() -> None:
    assert kept_hint("2026-11-26-hi") == (
        "ask again; the raw answer is kept: `wai sessions show 2026-11-26-hi`"
    )
    assert kept_hint(None) == "ask again (the raw answer was not saved)"
