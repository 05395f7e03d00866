"""The callback registry: the only global, and the only way a schedule can reach code.

A schedule names callbacks by registered name, never by import path (SPEC §6). Names come from
the built-ins, from ``@callback`` in modules the user names as plugins, and from installed
packages' ``timerctl.callbacks`` entry points.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import PluginError
from .plugin_import import import_plugin, plugin_location

ENTRY_POINT_GROUP = "timerctl.callbacks"


@dataclass(frozen=True)
class CallbackSpec:
    """A registered callback and what ``timerctl callbacks`` shows about it."""

    name: str
    func: Callable[..., Any]
    origin: str
    #: names of parameters whose value must be the name of an entry in the schedule
    entry_params: tuple[str, ...] = ()
    #: a callback's own check of its arguments at load time: the problem, or None
    validate: Callable[[tuple[Any, ...], dict[str, Any]], str | None] | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)

    @property
    def signature(self) -> str:
        sig = self._signature
        return f"{self.name}{sig}" if sig is not None else f"{self.name}(...)"

    @property
    def doc(self) -> str:
        text = inspect.getdoc(self.func) or ""
        return text.strip().splitlines()[0] if text.strip() else ""

    @functools.cached_property
    def _signature(self) -> inspect.Signature | None:
        # inspect.signature costs ~10 µs: once per callback, not once per entry. eval_str
        # shows `str`, not `'str'`, for plugins written with `from __future__ import annotations`.
        for eval_str in (True, False):
            try:
                return inspect.signature(self.func, eval_str=eval_str)
            except (TypeError, ValueError, NameError, SyntaxError):
                continue
        return None

    def check_args(self, args: Iterable[Any], kwargs: dict[str, Any]) -> str | None:
        """Why these arguments cannot be passed, or None: caught at load, not mid-run."""
        return self.bind_error(args, kwargs) or self.value_error(args, kwargs)

    def bind_error(self, args: Iterable[Any], kwargs: dict[str, Any]) -> str | None:
        """Why the signature refuses these arguments; depends only on how many there are and
        which keywords (a loader may check it once per such shape)."""
        sig = self._signature
        if sig is None:
            return None
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            return str(exc)
        return None

    def value_error(self, args: Iterable[Any], kwargs: dict[str, Any]) -> str | None:
        """Why the callback's own check refuses these values (every entry's, every time)."""
        if self.validate is None:
            return None
        return self.validate(tuple(args), dict(kwargs))


def suggest(name: str, choices: Iterable[str]) -> str:
    """A ``(did you mean 'x'?)`` hint, or an empty string."""
    import difflib  # only on the error path: it costs a millisecond at start-up

    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Registry:
    """Maps callback names to specs; plugins and entry points are loaded on demand."""

    def __init__(self) -> None:
        self._specs: dict[str, CallbackSpec] = {}
        self._loaded_modules: set[str] = set()
        self._entry_points_loaded = False
        self._importing: str | None = None
        #: False while check and plan load a schedule (``reading_plugins``): a plugin it names
        #: is read, not imported (``plugin_source``)
        self.import_plugins = True
        self._read_modules: set[str] = set()  # read, not imported: a run still imports them

    # registration -------------------------------------------------------------------------
    def register(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        *,
        origin: str | None = None,
        entry_params: tuple[str, ...] = (),
        validate: Callable[[tuple[Any, ...], dict[str, Any]], str | None] | None = None,
    ) -> CallbackSpec:
        name = name or func.__name__
        if not isinstance(name, str) or not name:
            raise ValueError("a callback name must be a non-empty string")
        where = origin or self._importing or str(getattr(func, "__module__", "?"))
        spec = CallbackSpec(name, func, where, entry_params, validate)
        self._specs[name] = spec
        return spec

    # lookup -------------------------------------------------------------------------------
    def get(self, name: str) -> CallbackSpec | None:
        self._load_builtins()
        if name not in self._specs:
            self.load_entry_points()
        return self._specs.get(name)

    def names(self) -> list[str]:
        self._load_builtins()
        self.load_entry_points()
        return sorted(self._specs)

    def _load_builtins(self) -> None:
        # On first lookup, not at import: the built-ins import the exec machinery, which
        # `--help` need not pay. Every registry gets the same specs (validators included).
        if "timerctl.builtins" not in self._loaded_modules:
            self._loaded_modules.add("timerctl.builtins")
            from .builtins import register_builtins

            register_builtins(self)

    def specs(self) -> list[CallbackSpec]:
        return [self._specs[n] for n in self.names()]

    def unknown_message(self, name: str) -> str:
        shown = name.encode("unicode_escape").decode("ascii")  # no terminal escapes in messages
        return f"unknown callback '{shown}'{suggest(name, self.names())}"

    # plugins ------------------------------------------------------------------------------
    def load_plugin(self, module: str, *, here: str | None = None) -> None:
        """Import a module the user named so that its ``@callback`` functions register.

        ``here`` (the CLI's ``--plugin``: the current folder) is where a module that is not on
        the import path is looked for next, as ``python -m`` would find it; a path to a
        ``.py`` file names the module in it.
        """
        module, here = plugin_location(module, here)
        if module in self._loaded_modules:
            return
        if not self.import_plugins and module not in sys.modules:
            if module not in self._read_modules:
                self._read_plugin(module)
                self._read_modules.add(module)
            return
        previous, self._importing = self._importing, f"plugin {module}"
        try:
            import_plugin(module, here)
        finally:
            self._importing = previous
        self._loaded_modules.add(module)

    @contextlib.contextmanager
    def reading_plugins(self) -> Iterator[None]:
        """Within: the plugins a schedule names are read, not imported (check, plan)."""
        previous, self.import_plugins = self.import_plugins, False
        try:
            yield
        finally:
            self.import_plugins = previous

    def _read_plugin(self, module: str) -> None:
        """Register a plugin's callbacks from its source, without running any of it."""
        from .plugin_source import find_callbacks, find_source, stand_in

        found = find_source(module)
        if found is None:  # no Python source (built-in, extension): nothing we can read
            return
        filename, source = found
        for cb in find_callbacks(source, filename):
            self.register(
                stand_in(module, cb),
                cb.name,
                origin=f"plugin {module} (read)",
                entry_params=cb.entry_params,
            )

    def load_entry_points(self) -> None:
        """Register the callbacks of installed packages (group ``timerctl.callbacks``)."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            previous, self._importing = self._importing, f"entry point {ep.value}"
            try:
                obj = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"entry point '{ep.name}' ({ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            finally:
                self._importing = previous
            # A module registers through its decorators; a bare function registers by its EP name.
            if callable(obj) and not inspect.ismodule(obj) and ep.name not in self._specs:
                self.register(obj, ep.name, origin=f"entry point {ep.value}")


REGISTRY = Registry()


def callback(
    name: str | None = None,
    *,
    entry_params: tuple[str, ...] = (),
    validate: Callable[[tuple[Any, ...], dict[str, Any]], str | None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function (sync or ``async def``) as a callback a schedule can name.

    ``validate(args, kwargs)`` may return why arguments cannot work: reported when the schedule
    is loaded, as a located error, instead of a failed call mid-run.
    """
    if callable(name):  # used bare: @callback
        func, name = name, None
        REGISTRY.register(func)
        return func

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.register(func, name, entry_params=entry_params, validate=validate)
        return func

    return decorate
