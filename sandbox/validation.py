"""The request-body limits Discord enforces, reported the way Discord reports them.

Every check adds to a ``FormErrors`` tree keyed by field name and list index; a non-empty tree
becomes ``400 {"code": 50035, "message": "Invalid Form Body", "errors": {...}}`` where each
leaf is ``{"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "..."}]}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sandbox.errors import ApiError, empty_message, invalid_form_body

JSON = dict[str, Any]
Path = Sequence[str | int]

MESSAGE_CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
EMBED_FIELDS = 25
EMBED_FIELD_NAME = 256
EMBED_FIELD_VALUE = 1024
EMBED_FOOTER_TEXT = 2048
EMBED_AUTHOR_NAME = 256
CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
ACTION_ROWS_PER_MESSAGE = 5
ITEMS_PER_ACTION_ROW = 5
SELECT_OPTIONS_LIMIT = 25
ATTACHMENTS_PER_MESSAGE = 10
NONCE_LIMIT = 25
MODAL_TITLE_LIMIT = 45
TEXT_INPUT_LABEL_LIMIT = 45
TEXT_INPUT_VALUE_LIMIT = 4000
AUTOCOMPLETE_CHOICES_LIMIT = 25
COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION_LIMIT = 100
COMMAND_OPTIONS_LIMIT = 25
COMMAND_CHOICES_LIMIT = 25

# Component types.
ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
LABEL = 18
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
LINK_STYLE = 5
PREMIUM_STYLE = 6

# Application command option types that carry nested options.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2


class FormErrors:
    """Collects field errors into Discord's nested error shape."""

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: Path, code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Path, value: Any, low: int, high: int) -> None:
        if value is None or not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Path, value: Any) -> bool:
        if value is None or value == "":
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True

    def __bool__(self) -> bool:
        return bool(self.tree)

    def error(self) -> ApiError:
        return invalid_form_body(self.tree)

    def raise_if_any(self) -> None:
        if self.tree:
            raise self.error()


def embed_length(embed: JSON) -> int:
    """The characters Discord counts towards the 6,000 total of an embed."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def check_embeds(errors: FormErrors, embeds: Any, path: Path = ("embeds",)) -> None:
    """Embed count and per-field limits, and the 6,000 total across all embeds of a message."""
    if embeds is None:
        return
    errors.max_length(path, embeds, EMBEDS_PER_MESSAGE)
    total = 0
    for index, embed in enumerate(embeds):
        at = (*path, index)
        for key, limit in EMBED_LIMITS.items():
            errors.max_length((*at, key), embed.get(key), limit)
        fields = embed.get("fields") or []
        errors.max_length((*at, "fields"), fields, EMBED_FIELDS)
        for number, item in enumerate(fields):
            if errors.required((*at, "fields", number, "name"), item.get("name")):
                errors.max_length(
                    (*at, "fields", number, "name"), item.get("name"), EMBED_FIELD_NAME
                )
            if errors.required((*at, "fields", number, "value"), item.get("value")):
                errors.max_length(
                    (*at, "fields", number, "value"), item.get("value"), EMBED_FIELD_VALUE
                )
        footer = embed.get("footer")
        if footer:
            errors.max_length((*at, "footer", "text"), footer.get("text"), EMBED_FOOTER_TEXT)
        author = embed.get("author")
        if author:
            errors.max_length((*at, "author", "name"), author.get("name"), EMBED_AUTHOR_NAME)
        total += embed_length(embed)
    if total > EMBED_TOTAL_LIMIT:
        errors.add(
            path,
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}",
        )


def check_components(
    errors: FormErrors, components: Any, *, v2: bool, path: Path = ("components",)
) -> None:
    """Action-row layout, custom_id length and uniqueness, labels and select options."""
    if not components:
        return
    if not v2:
        errors.max_length(path, components, ACTION_ROWS_PER_MESSAGE)
    seen: set[str] = set()

    def walk(items: list[JSON], at: Path) -> None:
        for index, item in enumerate(items):
            here = (*at, index)
            kind = item.get("type")
            custom_id = item.get("custom_id")
            if custom_id is not None:
                errors.max_length((*here, "custom_id"), custom_id, CUSTOM_ID_LIMIT)
                if custom_id in seen:
                    errors.add(
                        (*here, "custom_id"),
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            if kind == ACTION_ROW:
                children = item.get("components") or []
                errors.max_length((*here, "components"), children, ITEMS_PER_ACTION_ROW)
                if any(c.get("type") in SELECT_TYPES for c in children) and len(children) > 1:
                    errors.add(
                        (*here, "components"),
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 1 in length.",
                    )
                walk(children, (*here, "components"))
            elif kind == BUTTON:
                errors.max_length((*here, "label"), item.get("label"), BUTTON_LABEL_LIMIT)
                style = item.get("style")
                if style == LINK_STYLE:
                    errors.required((*here, "url"), item.get("url"))
                elif style != PREMIUM_STYLE:
                    errors.required((*here, "custom_id"), custom_id)
            elif kind in SELECT_TYPES:
                errors.required((*here, "custom_id"), custom_id)
                if kind == STRING_SELECT:
                    options = item.get("options") or []
                    errors.length_between((*here, "options"), options, 1, SELECT_OPTIONS_LIMIT)
                    for number, option in enumerate(options):
                        errors.max_length(
                            (*here, "options", number, "label"), option.get("label"), 100
                        )
                        errors.max_length(
                            (*here, "options", number, "value"), option.get("value"), 100
                        )
            else:
                nested = item.get("components")
                if isinstance(nested, list):
                    walk(nested, (*here, "components"))
                for key in ("accessory", "component"):
                    child = item.get(key)
                    if isinstance(child, dict):
                        walk([child], (*here, key))

    walk(list(components), path)


def check_message(payload: JSON, *, require_content: bool = True, files: int = 0) -> None:
    """Validate a create/edit message body; raise ``ApiError`` on the first failing request.

    ``require_content`` is False for edits, where omitted fields keep their values.
    """
    errors = FormErrors()
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "BASE_TYPE_STRING", "Must be a string.")
    else:
        errors.max_length(("content",), content, MESSAGE_CONTENT_LIMIT)
    check_embeds(errors, payload.get("embeds"))
    flags = int(payload.get("flags") or 0)
    check_components(errors, payload.get("components"), v2=bool(flags & (1 << 15)))
    attachments = payload.get("attachments")
    if attachments is not None:
        errors.max_length(("attachments",), attachments, ATTACHMENTS_PER_MESSAGE)
    errors.raise_if_any()
    if require_content:
        has_body = any(
            payload.get(key)
            for key in ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
        )
        if not has_body and files == 0:
            raise empty_message()


def check_nonce(nonce: Any) -> None:
    """A message nonce is an integer or a string of at most 25 characters."""
    errors = FormErrors()
    if isinstance(nonce, str):
        errors.max_length(("nonce",), nonce, NONCE_LIMIT)
    elif nonce is not None and (isinstance(nonce, bool) or not isinstance(nonce, int)):
        errors.add(("nonce",), "BASE_TYPE_STRING", "Must be a string or an integer.")
    errors.raise_if_any()


def check_modal(data: JSON) -> None:
    """Modal title, custom_id, component count and text input limits."""
    errors = FormErrors()
    if errors.required(("data", "title"), data.get("title")):
        errors.max_length(("data", "title"), data.get("title"), MODAL_TITLE_LIMIT)
    if errors.required(("data", "custom_id"), data.get("custom_id")):
        errors.max_length(("data", "custom_id"), data.get("custom_id"), CUSTOM_ID_LIMIT)
    components = data.get("components") or []
    errors.length_between(("data", "components"), components, 1, 5)

    def walk(items: list[JSON], at: Path) -> None:
        for index, item in enumerate(items):
            here = (*at, index)
            if item.get("type") == TEXT_INPUT:
                errors.max_length((*here, "custom_id"), item.get("custom_id"), CUSTOM_ID_LIMIT)
                errors.max_length((*here, "label"), item.get("label"), TEXT_INPUT_LABEL_LIMIT)
                errors.max_length((*here, "value"), item.get("value"), TEXT_INPUT_VALUE_LIMIT)
                errors.max_length((*here, "placeholder"), item.get("placeholder"), 100)
            nested = item.get("components")
            if isinstance(nested, list):
                walk(nested, (*here, "components"))
            child = item.get("component")
            if isinstance(child, dict):
                walk([child], (*here, "component"))

    walk(list(components), ("data", "components"))
    errors.raise_if_any()


def check_autocomplete_choices(data: JSON) -> None:
    """At most 25 choices, names 1-100 characters, string values up to 100."""
    errors = FormErrors()
    choices = data.get("choices") or []
    errors.max_length(("data", "choices"), choices, AUTOCOMPLETE_CHOICES_LIMIT)
    for index, choice in enumerate(choices):
        errors.length_between(("data", "choices", index, "name"), choice.get("name") or "", 1, 100)
        value = choice.get("value")
        if isinstance(value, str):
            errors.max_length(("data", "choices", index, "value"), value, 100)
    errors.raise_if_any()


def check_command(errors: FormErrors, command: JSON, path: Path) -> None:
    """One application command definition (names, descriptions, option layout and counts)."""
    kind = int(command.get("type") or 1)
    name = command.get("name")
    if errors.required((*path, "name"), name) and isinstance(name, str):
        if kind == 1 and (not COMMAND_NAME_RE.match(name) or name != name.lower()):
            errors.add(
                (*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        elif kind != 1:
            errors.length_between((*path, "name"), name, 1, 32)
    description = command.get("description") or ""
    if kind == 1:
        errors.length_between((*path, "description"), description, 1, COMMAND_DESCRIPTION_LIMIT)
        _check_options(errors, command.get("options") or [], (*path, "options"), depth=0)
    elif description:
        errors.add(
            (*path, "description"), "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Must be empty"
        )


def _check_options(errors: FormErrors, options: list[JSON], path: Path, *, depth: int) -> None:
    errors.max_length(path, options, COMMAND_OPTIONS_LIMIT)
    names: set[str] = set()
    seen_optional = False
    for index, option in enumerate(options):
        here = (*path, index)
        name = option.get("name")
        if errors.required((*here, "name"), name) and isinstance(name, str):
            if not COMMAND_NAME_RE.match(name) or name != name.lower():
                errors.add(
                    (*here, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            if name in names:
                errors.add(
                    (*here, "name"),
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option name already exists",
                )
            names.add(name)
        errors.length_between(
            (*here, "description"), option.get("description") or "", 1, COMMAND_DESCRIPTION_LIMIT
        )
        kind = option.get("type")
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            if depth >= (1 if kind == SUB_COMMAND_GROUP else 2):
                errors.add(
                    (*here, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Invalid nesting"
                )
            _check_options(errors, option.get("options") or [], (*here, "options"), depth=depth + 1)
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        choices = option.get("choices")
        if choices:
            errors.max_length((*here, "choices"), choices, COMMAND_CHOICES_LIMIT)
            if option.get("autocomplete"):
                errors.add(
                    (*here, "autocomplete"),
                    "AUTOCOMPLETE_AND_CHOICES",
                    "Autocomplete and choices are exclusive",
                )


def check_commands(commands: list[JSON]) -> None:
    """A bulk overwrite: every command valid, names unique per type."""
    errors = FormErrors()
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        check_command(errors, command, (index,))
        key = (int(command.get("type") or 1), str(command.get("name")))
        if key in seen:
            errors.add(
                (index, "name"),
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
    errors.raise_if_any()
