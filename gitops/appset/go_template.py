"""A subset of Go's text/template with the Sprig functions ApplicationSets use (``goTemplate: true``).

Supported: text and ``{{ }}`` actions with ``{{-``/``-}}`` trimming; pipelines (``.a.b | lower``); field access on
maps (``.path.basename``), variables (``$``, ``$v``, ``$v.field``); literals (strings with escapes, raw strings,
numbers, ``true``/``false``/``nil``); parenthesised pipelines; ``if``/``else if``/``else``/``end``,
``range`` (over lists and maps, with ``$v`` or ``$k, $v``) and ``with``; comments ``{{/* */}}``.
Functions: ``index``, ``printf``, ``default``, ``lower``, ``upper``, ``replace``, ``trunc``, ``toYaml``,
``toJson``, ``normalize``, ``quote``, ``trim``, ``trimPrefix``, ``trimSuffix``, ``hasPrefix``, ``hasSuffix``,
``contains``, ``len``, ``eq``, ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``not``, ``and``, ``or``, ``empty``, ``list``,
``join``, ``split``... as listed in ``FUNCTIONS``.

A missing map key prints ``<no value>`` as Go does by default; with the option ``missingkey=error`` it is an
error worded as Go words it (``map has no entry for key "x"``). Errors are ``TemplateError`` values that name the
template text and the action, never a traceback.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitops.appset.names import sanitize_name


class TemplateError(ValueError):
    """A template that does not parse or fails while executing; the message says where and why."""


class _Missing:
    """A map key that is not there: prints as Go's ``<no value>`` and counts as empty."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()


# --- lexing -------------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<declare>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _lex(action: str, where: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(action):
        match = _TOKEN.match(action, position)
        if match is None:
            raise TemplateError(f"{where}: unexpected {action[position]!r} in action {{{{{action}}}}}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        position = match.end()
    return tokens


# --- parsing ------------------------------------------------------------------------------------------------------


@dataclass
class _Text:
    text: str


@dataclass
class _Action:
    pipeline: _Pipeline
    source: str


@dataclass
class _If:
    branches: list[tuple[_Pipeline, list[_Node]]]
    otherwise: list[_Node]


@dataclass
class _Range:
    variables: list[str]
    pipeline: _Pipeline
    body: list[_Node]
    otherwise: list[_Node]


@dataclass
class _With:
    pipeline: _Pipeline
    body: list[_Node]
    otherwise: list[_Node]


_Node = _Text | _Action | _If | _Range | _With


@dataclass
class _Command:
    operands: list[Any]  # _Token or _Pipeline (parenthesised)


@dataclass
class _Pipeline:
    commands: list[_Command]
    declare: list[str] = field(default_factory=list)
    source: str = ""


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def _split(template: str) -> list[tuple[str, str]]:
    """The template as ("text", s) and ("action", s) pieces, with ``{{-`` and ``-}}`` trimming applied."""
    pieces: list[tuple[str, str]] = []
    position = 0
    trim_next = False
    for match in _ACTION.finditer(template):
        text = template[position : match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        if text:
            pieces.append(("text", text))
        pieces.append(("action", match.group(2).strip()))
        trim_next = bool(match.group(3))
        position = match.end()
    rest = template[position:]
    if trim_next:
        rest = rest.lstrip()
    if "{{" in rest:
        raise TemplateError(f"unclosed action in template {template!r}")
    if rest:
        pieces.append(("text", rest))
    return pieces


class _Parser:
    def __init__(self, template: str) -> None:
        self.template = template
        self.pieces = _split(template)
        self.position = 0

    def parse(self) -> list[_Node]:
        nodes, terminator = self._nodes()
        if terminator is not None:
            raise TemplateError(f"unexpected {{{{{terminator}}}}} in template {self.template!r}")
        return nodes

    def _nodes(self) -> tuple[list[_Node], str | None]:
        nodes: list[_Node] = []
        while self.position < len(self.pieces):
            kind, text = self.pieces[self.position]
            self.position += 1
            if kind == "text":
                nodes.append(_Text(text))
                continue
            if text.startswith("/*"):
                if not text.endswith("*/"):
                    raise TemplateError(f"unclosed comment in template {self.template!r}")
                continue
            keyword = text.split(None, 1)[0] if text else ""
            if keyword in ("end", "else"):
                return nodes, text
            if keyword == "if":
                nodes.append(self._if(text[2:]))
            elif keyword == "range":
                nodes.append(self._range(text[5:]))
            elif keyword == "with":
                nodes.append(self._with(text[4:]))
            elif not text:
                raise TemplateError(f"missing value for command in template {self.template!r}")
            else:
                nodes.append(_Action(self._pipeline(text), text))
        return nodes, None

    def _block(self, opener: str) -> tuple[list[_Node], str]:
        body, terminator = self._nodes()
        if terminator is None:
            raise TemplateError(f"unexpected EOF: {{{{{opener}}}}} has no {{{{end}}}} in template {self.template!r}")
        return body, terminator

    def _if(self, condition: str) -> _If:
        branches: list[tuple[_Pipeline, list[_Node]]] = []
        otherwise: list[_Node] = []
        pipeline = self._pipeline(condition.strip())
        while True:
            body, terminator = self._block("if")
            branches.append((pipeline, body))
            if terminator == "end":
                return _If(branches, otherwise)
            rest = terminator[4:].strip()
            if rest.startswith("if "):
                pipeline = self._pipeline(rest[3:].strip())
                continue
            otherwise, terminator = self._block("else")
            if terminator != "end":
                raise TemplateError(f"expected {{{{end}}}} after {{{{else}}}} in template {self.template!r}")
            return _If(branches, otherwise)

    def _range(self, text: str) -> _Range:
        variables: list[str] = []
        match = re.match(r"\s*(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=\s*(.*)$", text, re.DOTALL)
        if match:
            variables = [name for name in (match.group(1), match.group(2)) if name]
            text = match.group(3)
        pipeline = self._pipeline(text.strip())
        body, terminator = self._block("range")
        otherwise: list[_Node] = []
        if terminator != "end":
            otherwise, terminator = self._block("else")
        return _Range(variables, pipeline, body, otherwise)

    def _with(self, text: str) -> _With:
        pipeline = self._pipeline(text.strip())
        body, terminator = self._block("with")
        otherwise: list[_Node] = []
        if terminator != "end":
            otherwise, terminator = self._block("else")
        return _With(pipeline, body, otherwise)

    def _pipeline(self, text: str) -> _Pipeline:
        tokens = _lex(text, f"template {self.template!r}")
        pipeline, rest = self._parse_pipeline(tokens, text)
        if rest:
            raise TemplateError(f"unexpected {rest[0].text!r} in action {{{{{text}}}}}")
        return pipeline

    def _parse_pipeline(self, tokens: list[_Token], source: str) -> tuple[_Pipeline, list[_Token]]:
        declare: list[str] = []
        if len(tokens) >= 2 and tokens[0].kind == "variable" and tokens[1].kind in ("declare", "assign"):
            declare = [tokens[0].text]
            tokens = tokens[2:]
        commands: list[_Command] = []
        current: list[Any] = []
        while tokens:
            token = tokens[0]
            if token.kind == "rparen":
                break
            tokens = tokens[1:]
            if token.kind == "pipe":
                if not current:
                    raise TemplateError(f"missing command before '|' in action {{{{{source}}}}}")
                commands.append(_Command(current))
                current = []
            elif token.kind == "lparen":
                inner, tokens = self._parse_pipeline(tokens, source)
                if not tokens or tokens[0].kind != "rparen":
                    raise TemplateError(f"unclosed '(' in action {{{{{source}}}}}")
                tokens = tokens[1:]
                current.append(inner)
            else:
                current.append(token)
        if not current:
            raise TemplateError(f"missing value for command in action {{{{{source}}}}}")
        commands.append(_Command(current))
        return _Pipeline(commands, declare, source), tokens


# --- execution ----------------------------------------------------------------------------------------------------


def _is_true(value: Any) -> bool:
    return not (value is None or value is MISSING or value is False or value == 0 or value in ("", [], {}))


def go_string(value: Any) -> str:
    """How Go's fmt prints a value with %v."""
    if value is MISSING or value is None:
        return "<no value>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{key}:{go_string(value[key])}" for key in sorted(value)) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(item) for item in value) + "]"
    return str(value)


def _printf(form: str, *args: Any) -> str:
    result: list[str] = []
    arguments = list(args)
    position = 0
    for match in re.finditer(r"%([-+ 0#]*\d*(?:\.\d+)?)([vsdqfgtxX%])", form):
        result.append(form[position : match.start()])
        position = match.end()
        flags, verb = match.group(1), match.group(2)
        if verb == "%":
            result.append("%")
            continue
        if not arguments:
            result.append(f"%!{verb}(MISSING)")
            continue
        value = arguments.pop(0)
        if verb == "q":
            result.append(json.dumps(go_string(value)))
        elif verb in "dxX" and isinstance(value, int | float):
            result.append(("%" + flags + verb) % int(value))
        elif verb in "fg" and isinstance(value, int | float):
            result.append(("%" + flags + verb) % float(value))
        else:
            text = go_string(value)
            result.append(("%" + flags + "s") % text if flags else text)
    result.append(form[position:])
    return "".join(result)


def _index(collection: Any, *keys: Any) -> Any:
    value = collection
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key, MISSING) if isinstance(key, str) else MISSING
        elif isinstance(value, list | tuple):
            if not isinstance(key, int) or not 0 <= key < len(value):
                raise TemplateError(f"error calling index: index out of range: {key}")
            value = value[key]
        else:
            raise TemplateError(f"error calling index: can't index item of type {type(value).__name__}")
    return value


def _default(fallback: Any, *given: Any) -> Any:
    return given[0] if given and _is_true(given[0]) else fallback


def _trunc(length: int, text: Any) -> str:
    value = go_string(text)
    return value[:length] if length >= 0 else value[length:]


def _to_yaml(value: Any) -> str:
    if value is MISSING:
        value = None
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _compare(name: str, test: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(left: Any, *rights: Any) -> bool:
        try:
            return any(test(left, right) for right in rights) if name == "eq" else test(left, rights[0])
        except TypeError as error:
            raise TemplateError(f"error calling {name}: incompatible types for comparison") from error

    return compare


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "index": _index,
    "printf": _printf,
    "print": lambda *args: "".join(go_string(arg) for arg in args),
    "default": _default,
    "lower": lambda text: go_string(text).lower(),
    "upper": lambda text: go_string(text).upper(),
    "title": lambda text: go_string(text).title(),
    "replace": lambda old, new, text: go_string(text).replace(old, new),
    "trunc": _trunc,
    "trim": lambda text: go_string(text).strip(),
    "trimPrefix": lambda prefix, text: go_string(text).removeprefix(prefix),
    "trimSuffix": lambda suffix, text: go_string(text).removesuffix(suffix),
    "hasPrefix": lambda prefix, text: go_string(text).startswith(prefix),
    "hasSuffix": lambda suffix, text: go_string(text).endswith(suffix),
    "contains": lambda part, text: part in go_string(text),
    "quote": lambda *args: " ".join(json.dumps(go_string(arg)) for arg in args),
    "squote": lambda *args: " ".join(f"'{go_string(arg)}'" for arg in args),
    "toYaml": _to_yaml,
    "toJson": lambda value: json.dumps(None if value is MISSING else value, separators=(",", ":"), sort_keys=True),
    "normalize": lambda text: sanitize_name(go_string(text)),
    "len": lambda value: len(value) if value is not MISSING and value is not None else 0,
    "not": lambda value: not _is_true(value),
    "empty": lambda value: not _is_true(value),
    "and": lambda *args: next((arg for arg in args if not _is_true(arg)), args[-1]),
    "or": lambda *args: next((arg for arg in args if _is_true(arg)), args[-1]),
    "eq": _compare("eq", lambda left, right: left == right),
    "ne": _compare("ne", lambda left, right: left != right),
    "lt": _compare("lt", lambda left, right: left < right),
    "le": _compare("le", lambda left, right: left <= right),
    "gt": _compare("gt", lambda left, right: left > right),
    "ge": _compare("ge", lambda left, right: left >= right),
    "list": lambda *args: list(args),
    "join": lambda separator, items: separator.join(go_string(item) for item in items or []),
    "split": lambda separator, text: {f"_{n}": part for n, part in enumerate(go_string(text).split(separator))},
    "splitList": lambda separator, text: go_string(text).split(separator),
    "toString": go_string,
    "int": lambda value: int(value) if value not in (None, MISSING, "") else 0,
    # Sprig's add (int64 arithmetic); Argo Rollouts' step-completed template counts steps with it.
    "add": lambda *values: sum(int(value) if value not in (None, MISSING, "") else 0 for value in values),
    "b64enc": lambda text: base64.b64encode(go_string(text).encode()).decode(),
    "b64dec": lambda text: base64.b64decode(go_string(text)).decode(),
    "sha256sum": lambda text: hashlib.sha256(go_string(text).encode()).hexdigest(),
}


@dataclass
class _Scope:
    dot: Any
    root: Any
    variables: dict[str, Any]
    missing_is_error: bool
    template: str


def _lookup(value: Any, path: Sequence[str], scope: _Scope, spelled: str) -> Any:
    for name in path:
        if value is MISSING:
            return MISSING
        if isinstance(value, Mapping):
            if name in value:
                value = value[name]
            elif scope.missing_is_error:
                raise TemplateError(
                    f'template: {scope.template!r}: executing at <{spelled}>: map has no entry for key "{name}"'
                )
            else:
                value = MISSING
        elif value is None:
            raise TemplateError(
                f"template: {scope.template!r}: executing at <{spelled}>: nil pointer evaluating {name}"
            )
        else:
            raise TemplateError(
                f"template: {scope.template!r}: executing at <{spelled}>: can't evaluate field {name} in type "
                f"{type(value).__name__}"
            )
    return value


def _operand(token: Any, scope: _Scope) -> Any:
    if isinstance(token, _Pipeline):
        return _run_pipeline(token, scope)
    kind, text = token.kind, token.text
    if kind == "field":
        return scope.dot if text == "." else _lookup(scope.dot, text[1:].split("."), scope, text)
    if kind == "variable":
        name, _, rest = text.partition(".")
        if name == "$":
            base = scope.root
        elif name in scope.variables:
            base = scope.variables[name]
        else:
            raise TemplateError(f"template: {scope.template!r}: undefined variable: {name}")
        return _lookup(base, rest.split("."), scope, text) if rest else base
    if kind == "string":
        return json.loads(text)
    if kind == "raw":
        return text[1:-1]
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "word":
        if text in ("true", "false"):
            return text == "true"
        if text == "nil":
            return None
    raise TemplateError(f"template: {scope.template!r}: unexpected {text!r} as a value")


def _run_command(command: _Command, scope: _Scope, piped: tuple[Any, ...]) -> Any:
    head = command.operands[0]
    if isinstance(head, _Token) and head.kind == "word" and head.text not in ("true", "false", "nil"):
        function = FUNCTIONS.get(head.text)
        if function is None:
            raise TemplateError(f'template: {scope.template!r}: function "{head.text}" not defined')
        arguments = [_operand(operand, scope) for operand in command.operands[1:]] + list(piped)
        try:
            return function(*arguments)
        except TemplateError:
            raise
        except (TypeError, ValueError, IndexError, KeyError) as error:
            raise TemplateError(f"template: {scope.template!r}: error calling {head.text}: {error}") from error
    if len(command.operands) > 1 or piped:
        raise TemplateError(f"template: {scope.template!r}: can't give argument to non-function {head}")
    return _operand(head, scope)


def _run_pipeline(pipeline: _Pipeline, scope: _Scope) -> Any:
    value: Any = None
    for number, command in enumerate(pipeline.commands):
        value = _run_command(command, scope, () if number == 0 else (value,))
    for name in pipeline.declare:
        scope.variables[name] = value
    return value


def _execute(nodes: Sequence[_Node], scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Action):
            value = _run_pipeline(node.pipeline, scope)
            if not node.pipeline.declare:
                out.append(go_string(value))
        elif isinstance(node, _If):
            for condition, body in node.branches:
                if _is_true(_run_pipeline(condition, scope)):
                    _execute(body, scope, out)
                    break
            else:
                _execute(node.otherwise, scope, out)
        elif isinstance(node, _With):
            value = _run_pipeline(node.pipeline, scope)
            if _is_true(value):
                _execute(node.body, _Scope(value, scope.root, scope.variables, scope.missing_is_error,
                                           scope.template), out)
            else:
                _execute(node.otherwise, scope, out)
        else:
            _range(node, scope, out)


def _range(node: _Range, scope: _Scope, out: list[str]) -> None:
    collection = _run_pipeline(node.pipeline, scope)
    if isinstance(collection, Mapping):
        items: list[tuple[Any, Any]] = [(key, collection[key]) for key in sorted(collection)]
    elif isinstance(collection, list | tuple):
        items = list(enumerate(collection))
    elif collection is None or collection is MISSING:
        items = []
    else:
        raise TemplateError(f"template: {scope.template!r}: range can't iterate over {go_string(collection)}")
    if not items:
        _execute(node.otherwise, scope, out)
        return
    for key, value in items:
        variables = dict(scope.variables)
        if len(node.variables) == 2:
            variables[node.variables[0]], variables[node.variables[1]] = key, value
        elif node.variables:
            variables[node.variables[0]] = value
        _execute(node.body, _Scope(value, scope.root, variables, scope.missing_is_error, scope.template), out)


def parse_options(options: Sequence[str]) -> bool:
    """Whether ``goTemplateOptions`` ask for ``missingkey=error``; an unknown option is an error."""
    missing_is_error = False
    for option in options:
        if option in ("missingkey=error", "missingkey=zero", "missingkey=default", "missingkey=invalid"):
            missing_is_error = option == "missingkey=error"
        else:
            raise TemplateError(f"unrecognized goTemplateOptions option {option!r}")
    return missing_is_error


def render(template: str, data: Mapping[str, Any], *, missing_is_error: bool = False) -> str:
    """Execute ``template`` with ``data`` as dot."""
    if "{{" not in template:
        return template
    nodes = _Parser(template).parse()
    out: list[str] = []
    _execute(nodes, _Scope(data, data, {"$": data}, missing_is_error, template), out)
    return "".join(out)
