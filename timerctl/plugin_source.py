"""A plugin's callback names, read from its source without running it (``check``, ``plan``).

SPEC §6: checking or planning a schedule starts no process and runs none of its code. A schedule
names its plugins in ``[run] plugins``; importing them to learn their callbacks would run
whatever they do at import (``plugins = ["venv.__main__"]`` made a venv and ran pip). So the
module's file is located the way ``import`` would locate it, without importing it or its parent
packages (``importlib.util.find_spec`` of a dotted name imports the parents), parsed with
``ast``, and every function decorated ``@callback`` / ``@callback("name", entry_params=...)``
is registered as a stand-in with the real signature: the loader checks names and argument
shapes as before. What only running the module can tell (a ``validate=`` check, a callback
registered by a call rather than a decorator) is checked by ``run``, or by ``check --plugin``.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder
from typing import Any

from .errors import PluginError


@dataclass(frozen=True)
class FoundCallback:
    """A ``@callback`` found in a plugin's source."""

    name: str
    signature: inspect.Signature | None
    is_async: bool
    doc: str
    entry_params: tuple[str, ...]
    line: int


def find_source(module: str) -> tuple[str, str] | None:
    """(file name, source text) of ``module`` as ``import`` would find it, importing nothing;
    None for a module without Python source (built-in, extension, namespace package).

    Raises PluginError as an import would fail ("No module named ...").
    """
    parts = module.split(".")
    if not all(p.isidentifier() for p in parts):
        raise PluginError(f"cannot import plugin '{module}': not a module name")
    if module in sys.builtin_module_names:
        return None
    path: list[str] | None = None
    for i in range(1, len(parts)):  # the parent packages, outermost first
        path = _package_path(module, ".".join(parts[:i]), path)
    return _read_source(module, _find_spec(module, module, path))


def _find_spec(module: str, name: str, path: list[str] | None) -> ModuleSpec:
    """The spec of ``name`` (``module`` or one of its parents) in ``path``, found as import
    finds it: by the path finders alone, so nothing is imported."""
    spec = PathFinder.find_spec(name, path)
    if spec is None:
        raise PluginError(f"cannot import plugin '{module}': No module named '{name}'")
    return spec


def _package_path(module: str, name: str, path: list[str] | None) -> list[str]:
    """Where the package ``name``, a parent of ``module``, has its submodules."""
    loaded = sys.modules.get(name)
    if loaded is not None:  # a parent already imported: its path
        return list(getattr(loaded, "__path__", []) or [])
    spec = _find_spec(module, name, path)
    if spec.submodule_search_locations is None:
        raise PluginError(
            f"cannot import plugin '{module}': No module named "
            f"'{module}'; '{name}' is not a package"
        )
    return list(spec.submodule_search_locations)


def _read_source(module: str, spec: ModuleSpec) -> tuple[str, str] | None:
    """(file name, source text) that ``spec`` would run; None without Python source."""
    get_source = getattr(spec.loader, "get_source", None)
    if get_source is None or spec.origin is None:
        return None
    try:
        source = get_source(module)
    except (ImportError, OSError, UnicodeDecodeError) as exc:
        raise PluginError(f"cannot read plugin '{module}': {exc}") from None
    return (spec.origin, source) if source is not None else None


def find_callbacks(source: str, filename: str) -> list[FoundCallback]:
    """Every function the source decorates with ``callback`` (imported under any name)."""
    try:
        tree = ast.parse(source, filename)
    except (SyntaxError, ValueError) as exc:
        raise PluginError(
            f"plugin {filename} cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    names = _decorator_names(tree)
    return [
        found
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for found in _callbacks_of(node, names)
    ]


def _decorator_names(tree: ast.AST) -> set[str]:
    """The names ``callback`` goes by in the module: `from timerctl import callback as cb`."""
    names = {"callback"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("timerctl"):
            names.update(a.asname for a in node.names if a.name == "callback" and a.asname)
    return names


def _callbacks_of(
    node: ast.FunctionDef | ast.AsyncFunctionDef, names: set[str]
) -> list[FoundCallback]:
    """What each ``@callback`` decorating the function registers (usually one, or none)."""
    found = []
    for decorator in node.decorator_list:
        spec = _callback_decorator(decorator, names)
        if spec is None:
            continue
        name, entry_params = spec
        found.append(
            FoundCallback(
                name=name or node.name,
                signature=_signature(node.args),
                is_async=isinstance(node, ast.AsyncFunctionDef),
                doc=ast.get_docstring(node) or "",
                entry_params=entry_params,
                line=node.lineno,
            )
        )
    return found


def _is_callback(node: ast.expr, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    return isinstance(node, ast.Attribute) and node.attr == "callback"


def _callback_decorator(
    node: ast.expr, names: set[str]
) -> tuple[str | None, tuple[str, ...]] | None:
    """(name or None for the function's own, entry_params) of a ``@callback`` decorator."""
    if _is_callback(node, names):  # bare @callback
        return None, ()
    if not isinstance(node, ast.Call) or not _is_callback(node.func, names):
        return None
    name: Any = None
    entry_params: Any = ()
    try:
        if node.args:
            name = ast.literal_eval(node.args[0])
        for kw in node.keywords:
            if kw.arg == "name":
                name = ast.literal_eval(kw.value)
            elif kw.arg == "entry_params":
                entry_params = ast.literal_eval(kw.value)
    except ValueError:  # not a literal: only running the module could tell
        return None
    if name is not None and not isinstance(name, str):
        return None
    if not isinstance(entry_params, tuple | list) or not all(
        isinstance(p, str) for p in entry_params
    ):
        entry_params = ()
    return name, tuple(entry_params)


_DEFAULT = object()  # a parameter has a default; which one does not matter to binding


def _signature(args: ast.arguments) -> inspect.Signature | None:
    P = inspect.Parameter
    params: list[inspect.Parameter] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for i, a in enumerate(positional):
        kind = P.POSITIONAL_ONLY if i < len(args.posonlyargs) else P.POSITIONAL_OR_KEYWORD
        params.append(P(a.arg, kind, default=_DEFAULT if i >= first_default else P.empty))
    if args.vararg is not None:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(P(a.arg, P.KEYWORD_ONLY, default=P.empty if default is None else _DEFAULT))
    if args.kwarg is not None:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    try:
        return inspect.Signature(params)
    except ValueError:
        return None


def stand_in(module: str, found: FoundCallback) -> Callable[..., Any]:
    """A function with the callback's name, signature and doc that refuses to run: what the
    registry holds for a plugin that was read, not imported."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(
            f"callback '{found.name}' of plugin '{module}' was read, not imported: it cannot run"
        )

    async def refuse_async(*args: Any, **kwargs: Any) -> Any:
        return refuse(*args, **kwargs)

    func: Any = refuse_async if found.is_async else refuse
    func.__name__ = func.__qualname__ = found.name
    func.__module__ = module
    func.__doc__ = found.doc
    if found.signature is not None:
        func.__signature__ = found.signature
    chosen: Callable[..., Any] = func
    return chosen
