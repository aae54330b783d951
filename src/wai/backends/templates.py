"""Chat templates, to write a raw prompt that ends inside the assistant's answer: the model then
goes on with that answer instead of starting a new one (an answer's continuation).

Only templates known to the byte are here, each named in the model table
(`wai.settings.models.ModelFacts.template`); a model without one gets its messages sent as
messages, never a guessed template.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wai.backends.base import Message

# Llama 3.1 and 3.3's template writes this date into the system header when none is given.
LLAMA_DEFAULT_DATE = "26 Jul 2024"


def continuation_prompt(template: str | None, messages: Sequence[Message]) -> str | None:
    """The raw prompt of `messages` (a system message or none, then the conversation, the last
    being the partial answer) in `template`, ending with that answer's text and no end-of-turn
    mark; None when the template is unknown or the messages do not fit its shape."""
    write = TEMPLATES.get(template or "")
    if write is None or not messages or messages[-1]["role"] != "assistant":
        return None
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    turns = list(messages[1:] if system is not None else messages)
    if any(message["role"] not in ("user", "assistant") for message in turns):
        return None
    return write(system, turns)


def mistral_instruct(system: str | None, turns: list[Message]) -> str | None:
    """Mistral 7B Instruct v0.1: `<s>[INST] {user} [/INST]{answer}</s>[INST] ...`. It has no
    system role: the system message goes first in the first user turn, a blank line after it.
    Roles must alternate, starting with the user."""
    roles = [message["role"] for message in turns]
    if roles != ["user", "assistant"] * (len(turns) // 2) or len(turns) % 2:
        return None
    parts = ["<s>"]
    for index in range(0, len(turns), 2):
        question, answer = turns[index]["content"], turns[index + 1]["content"]
        if index == 0 and system:
            question = f"{system}\n\n{question}"
        parts.append(f"[INST] {question} [/INST]{answer}")
        if index + 2 < len(turns):
            parts.append("</s>")
    return "".join(parts)


def llama_3_1(system: str | None, turns: list[Message]) -> str | None:
    """Llama 3.1 and 3.3 (no tools): a header per message, its text trimmed, `<|eot_id|>` after
    it; the system header is always there, with the knowledge and today's dates the template
    writes by default."""
    header = "<|start_header_id|>{}<|end_header_id|>\n\n"
    parts = [
        "<|begin_of_text|>",
        header.format("system"),
        f"Cutting Knowledge Date: December 2023\nToday Date: {LLAMA_DEFAULT_DATE}\n\n",
        (system or "").strip(),
        "<|eot_id|>",
    ]
    for message in turns[:-1]:
        parts += [header.format(message["role"]), message["content"].strip(), "<|eot_id|>"]
    parts += [header.format("assistant"), turns[-1]["content"].strip()]
    return "".join(parts)


TEMPLATES: dict[str, Callable[[str | None, list[Message]], str | None]] = {
    "mistral-instruct": mistral_instruct,
    "llama-3.1": llama_3_1,
}
