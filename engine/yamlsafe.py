"""Reading a tether file as YAML without trusting it, and remembering where every value was.

tether.yaml comes from a repository anyone with commit rights can change, and every complaint about
it has to say ``file:line``. So this module does not hand the text to a YAML constructor. It walks
the parser's events itself and builds plain JSON values, keeping the line of every mapping key and
every list item. Walking events (not a composed node graph) is what keeps hostile input cheap:
every refusal happens at the event that breaks a rule, before anything is expanded.

What it refuses, each with one message that says where:

- anchors and aliases (``&name`` / ``*name``), all of them. Expanding aliases is how "billion
  laughs" documents blow up memory, and a declarations file gains nothing from them that is worth
  positions which point at someone else's lines. Refusing them outright is simpler to explain than
  an expansion budget, and costs the user only some repetition.
- tags beyond YAML's plain ones (``!!python/...``, ``!!binary``, ``!!set``, ``!custom``): a
  declarations file holds strings, numbers, booleans, nulls, dates, lists and mappings, nothing else.
- nesting deeper than ``MAX_DEPTH`` and documents of more than ``MAX_NODES`` values.
- more than one document in a file, and mapping keys that are themselves lists or mappings.

What it gives back is JSON-shaped: mapping keys are always the key's text (``on:`` is the key
"on", not ``True``), dates and timestamps become ISO text (providers return text, and the schema
checks dates as text), and a scalar whose implicit type cannot be built (``2027-02-30``, an
integer with more digits than Python converts) stays the text it was, so the schema reports it
with the file's line instead of the loader failing without one. Duplicate keys are reported, not
silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from engine.errors import ConfigError, Diagnostic

MAX_DEPTH = 50
MAX_NODES = 100_000

YamlPath = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
_ALLOWED_TAGS = frozenset(
    {_CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")} | {"!"}
)
_EventLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER: Any = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

SYNTAX_HINT = (
    "check the indentation and quoting on this line and the one above it: quote values that hold "
    '": " or " #" or start with { [ * & ! % @, and quote "${env:NAME}" inside {...}'
)
TAB_HINT = "YAML indents with spaces only; this line holds a tab"


@dataclass
class YamlDocument:
    """One parsed file: its JSON-shaped value, the line of each path, and non-fatal problems."""

    data: Any
    lines: dict[YamlPath, int]
    problems: list[Diagnostic] = field(default_factory=list)

    def line(self, path: YamlPath) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one (a missing key's parent)."""
        probe = tuple(path)
        while True:
            found = self.lines.get(probe)
            if found is not None:
                return found
            if not probe:
                return None
            probe = probe[:-1]


class _Frame:
    """An open mapping or list: its value so far, its path, and a mapping's pending key."""

    __slots__ = ("key", "path", "value")

    def __init__(self, value: dict[str, Any] | list[Any], path: YamlPath) -> None:
        self.value = value
        self.path = path
        self.key: str | None = None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_tag(tag: str) -> str:
    return _short("!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag)


@lru_cache(maxsize=4096)
def _implicit_tag(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag YAML's implicit rules give a plain scalar; cached, as config values repeat a lot."""
    tag: str = _RESOLVER.resolve(ScalarNode, value, implicit)
    return tag


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class _Builder:
    """Turns parser events into JSON values and a path -> line table, refusing as it goes."""

    def __init__(self, filename: str):
        self.filename = filename
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.lines: dict[YamlPath, int] = {}
        self.first_lines: dict[YamlPath, int] = {}  # of keys that appear twice
        self.problems: list[Diagnostic] = []
        self.documents = 0
        self.nodes = 0

    def refuse(self, line: int | None, message: str, hint: str = "") -> ConfigError:
        return ConfigError([Diagnostic(self.filename, line, message, hint)])

    def feed(self, event: Any) -> None:
        kind = type(event)
        if kind is MappingEndEvent or kind is SequenceEndEvent:
            self.stack.pop()
            return
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if kind is not ScalarEvent and kind is not MappingStartEvent and kind is not SequenceStartEvent:
            if kind is DocumentStartEvent:
                self.documents += 1
                if self.documents > 1:
                    raise self.refuse(
                        line,
                        'a second YAML document ("---") starts here; a tether file holds one document',
                        "merge them, or put the second part in its own file under tether.d/",
                    )
            elif kind is AliasEvent:
                raise self._anchor_refusal(line, f"*{event.anchor}")
            return  # stream start/end, document end
        if event.anchor is not None:
            raise self._anchor_refusal(line, f"&{event.anchor}")
        if event.tag is not None and event.tag not in _ALLOWED_TAGS:
            raise self.refuse(
                line,
                f"the YAML tag {_show_tag(event.tag)} is not allowed",
                "tether files hold plain values only: text, numbers, true/false, dates, lists and "
                "mappings; remove the tag",
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.refuse(
                line, f"more than {MAX_NODES} values in one file", "split the declarations across tether.d/*.yaml"
            )
        top = self.stack[-1] if self.stack else None
        if kind is ScalarEvent:
            if top is None:
                self._put(top, self._scalar(event), line)
            elif top.key is None and type(top.value) is dict:
                self._key(top, event.value, line)
            elif top.key is not None:  # a mapping's value: only containers need their path
                top.value[top.key] = self._scalar(event)  # type: ignore[call-overload]  # a key means a dict
                top.key = None
            else:
                self._put(top, self._scalar(event), line)
            return
        if top is not None and isinstance(top.value, dict) and top.key is None:
            raise self.refuse(line, "a mapping key here is a list or a mapping", "keys must be plain text")
        container: dict[str, Any] | list[Any] = {} if kind is MappingStartEvent else []
        path = self._put(top, container, line)
        self.stack.append(_Frame(container, path))
        if len(self.stack) > MAX_DEPTH:
            raise self.refuse(
                line, f"nesting deeper than {MAX_DEPTH} levels", "a tether file is never nested this deep; flatten it"
            )

    def _anchor_refusal(self, line: int | None, token: str) -> ConfigError:
        return self.refuse(
            line,
            f"YAML anchors and aliases ({_short(token)}) are not supported in tether files",
            "write the repeated value out in full at each place it is used",
        )

    def _key(self, frame: _Frame, key: str, line: int | None) -> None:
        path = frame.path + (key,)
        if key in frame.value:  # every earlier key of the mapping has its value by now
            first = self.first_lines.setdefault(path, self.lines[path])
            where = "at the top level" if not frame.path else "in " + ".".join(str(p) for p in frame.path)
            self.problems.append(
                Diagnostic(
                    self.filename,
                    line,
                    f'key "{_short(key)}" appears twice {where}; first at line {first}',
                    "remove or rename one of them; YAML would silently keep only the last",
                )
            )
        self.lines[path] = line or 0
        frame.key = key

    def _put(self, top: _Frame | None, value: Any, line: int | None) -> YamlPath:
        if top is None:
            self.root = value
            self.lines[()] = line or 1
            return ()
        if isinstance(top.value, list):
            path = top.path + (len(top.value),)
            top.value.append(value)
            self.lines[path] = line or 0
            return path
        assert top.key is not None
        path = top.path + (top.key,)
        top.value[top.key] = value
        top.key = None
        return path

    def _scalar(self, event: ScalarEvent) -> Any:
        tag = event.tag
        if tag is None and not event.implicit[0]:  # quoted, untagged: text, as YAML resolves it
            return event.value
        if tag is None or tag == "!":
            tag = _implicit_tag(event.value, event.implicit)
        if tag == _STR:
            return event.value
        build = yaml.constructor.SafeConstructor.yaml_constructors.get(tag)
        if build is None:  # "<<" and "=" resolve to merge/value tags; here they are just text
            return event.value
        node = ScalarNode(tag, event.value, None, None, event.style)
        try:
            return _jsonable(build(_CONSTRUCTOR, node))
        except (ValueError, OverflowError, yaml.YAMLError):
            return event.value


def _syntax_hint(text: str, line: int | None) -> str:
    if line is not None:
        lines = text.split("\n", line)[max(0, line - 2): line]
        if any("\t" in part[: len(part) - len(part.lstrip())] for part in lines):
            return TAB_HINT
    return SYNTAX_HINT


def _line_of_index(text: str, index: int) -> int:
    return text.count("\n", 0, max(0, index)) + 1


def parse_yaml(text: str, filename: str) -> YamlDocument:
    """Parse one file's text. Raises ConfigError (one Diagnostic) on syntax errors and refusals.

    An empty document gives ``data=None``. Problems that do not stop reading (duplicate keys)
    come back in ``problems`` so they can be reported with everything else.
    """
    builder = _Builder(filename)
    # The parser's events as ``yaml.parse`` gives them, without its generator and its
    # ``check_event`` per event: ``get_event`` answers None once the stream has ended.
    loader = None
    try:
        loader = _EventLoader(text)
        get_event, feed = loader.get_event, builder.feed
        event = get_event()
        while event is not None:
            feed(event)
            event = get_event()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "the text is not valid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} {exc.context}"
        raise builder.refuse(line, f"YAML syntax error: {problem}", _syntax_hint(text, line)) from None
    except yaml.reader.ReaderError as exc:
        raise builder.refuse(
            _line_of_index(text, exc.position),
            f"YAML syntax error: {exc.reason}; the file holds a character YAML does not allow",
            "remove control characters; tether files are UTF-8 text",
        ) from None
    except yaml.YAMLError:
        raise builder.refuse(None, "YAML syntax error: the text is not valid YAML", SYNTAX_HINT) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(builder.root, builder.lines, builder.problems)


def decode_text(raw: bytes, filename: str) -> str:
    """UTF-8 (a leading BOM allowed), or one Diagnostic naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [
                Diagnostic(
                    filename,
                    line,
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                    "save it as UTF-8",
                )
            ]
        ) from None
