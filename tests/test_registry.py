"""The callback registry: registration, lookup with hints, argument checks, plugins.

Every test works on a fresh Registry (the global one is swapped out where the @callback decorator
is used), and plugin modules written to tmp_path are removed from sys.modules afterwards, so no
test leaves a registration behind.
"""

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import timerctl
from timerctl import registry as registry_module
from timerctl.errors import PluginError, ScheduleError
from timerctl.load import load_text
from timerctl.plugin_import import plugin_location
from timerctl.registry import CallbackSpec, Registry, callback, suggest

_numbers = itertools.count()


def new_registry() -> Registry:
    """An empty registry: no built-ins, no installed packages' entry points."""
    # The global registry must have its built-ins first: a fresh registry's lookup imports
    # timerctl.builtins, whose decorators register into the global REGISTRY, not the fresh one.
    registry_module.REGISTRY.names()
    registry = Registry()
    registry._loaded_modules.add("timerctl.builtins")
    registry._entry_points_loaded = True
    return registry


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A new, empty registry that the @callback decorator registers into."""
    registry = new_registry()
    monkeypatch.setattr(registry_module, "REGISTRY", registry)
    return registry


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Writes a module with the given source; returns its (unique) importable name."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(source: str) -> str:
        name = f"timerctl_test_plugin_{next(_numbers)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def greet(who: str, *, punct: str = "!") -> str:
    """Say hello.

    More text that the listing does not show.
    """
    return f"hello {who}{punct}"


# -- registration and lookup ----------------------------------------------------------------------


def test_register_and_get() -> None:
    r = new_registry()
    spec = r.register(greet, origin="here")
    assert spec == CallbackSpec("greet", greet, "here")
    assert r.get("greet") is spec
    assert r.get("nope") is None
    assert "greet" in r.names()


def test_register_under_another_name_replaces_nothing_else() -> None:
    r = new_registry()
    r.register(greet, "hello")
    r.register(greet)
    assert r.get("hello").name == "hello" and r.get("greet").name == "greet"
    assert r.get("hello").origin == __name__


def test_callback_decorator_bare_and_named(fresh: Registry) -> None:
    @callback
    def bare(x: int) -> int:
        return x

    @callback("named", entry_params=("entry",))
    def whatever(entry: str) -> str:
        return entry

    assert bare(2) == 2 and whatever("e") == "e"  # the functions are returned unchanged
    assert fresh.get("bare").func is bare
    assert fresh.get("named").func is whatever
    assert fresh.get("named").entry_params == ("entry",)
    assert fresh.get("whatever") is None


def test_the_public_api_exports_the_decorator() -> None:
    assert timerctl.callback is callback


def test_async_callbacks_are_flagged(fresh: Registry) -> None:
    @callback("a")
    async def a() -> None:
        pass

    @callback("s")
    def s() -> None:
        pass

    assert fresh.get("a").is_async is True
    assert fresh.get("s").is_async is False


def test_signature_and_doc() -> None:
    spec = CallbackSpec("greet", greet, "here")
    assert spec.signature == "greet(who: str, *, punct: str = '!') -> str"
    assert spec.doc == "Say hello."
    assert CallbackSpec("f", lambda: None, "here").doc == ""


def test_a_callable_without_a_signature() -> None:
    spec = CallbackSpec("ga", getattr, "here")
    assert spec.signature == "ga(...)"
    assert spec.check_args([1, 2, 3, 4, 5], {"x": 1}) is None  # cannot tell: allowed


def test_builtins_are_in_the_global_registry() -> None:
    names = registry_module.REGISTRY.names()
    assert {"echo", "callback", "sleep", "cancel", "stop", "fail"} <= set(names)
    assert registry_module.REGISTRY.get("cancel").entry_params == ("entry",)
    assert registry_module.REGISTRY.get("echo").origin == "built-in"


# -- hints ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "choices", "hint"),
    [
        ("ecoh", ["echo", "exec", "sleep"], " (did you mean 'echo'?)"),
        ("sleeep", ["echo", "exec", "sleep"], " (did you mean 'sleep'?)"),
        ("xyz", ["echo", "exec", "sleep"], ""),
        ("echo", [], ""),
        ("", ["echo"], ""),
    ],
)
def test_suggest(name: str, choices: list[str], hint: str) -> None:
    assert suggest(name, choices) == hint


def test_unknown_message(fresh: Registry) -> None:
    fresh.register(greet)
    assert fresh.unknown_message("gret") == "unknown callback 'gret' (did you mean 'greet'?)"
    assert fresh.unknown_message("zzz") == "unknown callback 'zzz'"


# -- argument checks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "why"),
    [
        (["bob"], {}, None),
        (["bob"], {"punct": "?"}, None),
        ([], {"who": "bob"}, None),
        ([], {}, "missing a required argument: 'who'"),
        (["a", "b"], {}, "too many positional arguments"),
        (["a"], {"puncts": "?"}, "got an unexpected keyword argument 'puncts'"),
        (["a"], {"who": "b"}, "multiple values for argument 'who'"),
    ],
)
def test_check_args(args: list[object], kwargs: dict[str, object], why: str | None) -> None:
    assert CallbackSpec("greet", greet, "here").check_args(args, kwargs) == why


def test_check_args_of_the_builtins() -> None:
    get = registry_module.REGISTRY.get
    assert get("fail").check_args([1, 2, 3], {}) == "too many positional arguments"
    assert get("echo").check_args(list(range(1000)), {"sep": ","}) is None
    assert get("callback").check_args([1], {"kwarg": "x"}) is None
    assert get("callback").check_args([1, 2], {}) == "too many positional arguments"


# -- plugins --------------------------------------------------------------------------------------


def test_load_plugin_registers_its_callbacks_once(fresh: Registry, plugin) -> None:
    name = plugin(
        """
        from timerctl import callback

        IMPORTS = [1]

        @callback("hello_plugin")
        def hello(who: str) -> str:
            '''Greet from a plugin.'''
            return "hi " + who
        """
    )
    fresh.load_plugin(name)
    fresh.load_plugin(name)
    spec = fresh.get("hello_plugin")
    assert (
        spec is not None and spec.origin == f"plugin {name}" and spec.doc == "Greet from a plugin."
    )
    assert sys.modules[name].IMPORTS == [1]


def test_load_plugin_of_a_missing_module(fresh: Registry) -> None:
    with pytest.raises(PluginError) as info:
        fresh.load_plugin("timerctl_test_no_such_plugin")
    assert str(info.value) == (
        "cannot import plugin 'timerctl_test_no_such_plugin': "
        "No module named 'timerctl_test_no_such_plugin'"
    )


def test_load_plugin_whose_dependency_is_missing(fresh: Registry, plugin) -> None:
    name = plugin("import timerctl_test_no_such_dependency\n")
    with pytest.raises(PluginError, match="No module named 'timerctl_test_no_such_dependency'"):
        fresh.load_plugin(name)


def test_load_plugin_that_raises(fresh: Registry, plugin) -> None:
    name = plugin("x = 1 / 0\n")
    with pytest.raises(PluginError) as info:
        fresh.load_plugin(name)
    assert str(info.value) == (
        f"plugin '{name}' failed while importing: ZeroDivisionError: division by zero"
    )
    with pytest.raises(PluginError):  # a failed import is not remembered as loaded
        fresh.load_plugin(name)


def test_load_plugin_with_a_syntax_error(fresh: Registry, plugin) -> None:
    name = plugin("def (:\n")
    with pytest.raises(PluginError, match=f"plugin '{name}' failed while importing: SyntaxError"):
        fresh.load_plugin(name)


@pytest.mark.parametrize("module", ["", "   "])
def test_load_plugin_needs_a_name(fresh: Registry, module: str) -> None:
    with pytest.raises(PluginError, match="a plugin must be a module name"):
        fresh.load_plugin(module)


@pytest.mark.parametrize(
    ("module", "here", "where"),
    [
        ("pkg.mod", "/w", ("pkg.mod", "/w")),
        ("tools/mine.py", "/w", ("mine", "/w/tools")),  # --plugin path/to/file.py
        ("mine.py", None, ("mine.py", None)),  # a schedule's plugins name modules only
    ],
)
def test_plugin_location(module: str, here: str | None, where: tuple[str, str | None]) -> None:
    assert plugin_location(module, here) == where


def test_load_plugin_that_calls_sys_exit(fresh: Registry, plugin) -> None:
    name = plugin("import sys\nsys.exit(3)\n")
    with pytest.raises(PluginError):
        fresh.load_plugin(name)


# -- plugins through the loader -------------------------------------------------------------------


def test_run_plugins_register_before_the_calls_are_checked(fresh: Registry, plugin) -> None:
    name = plugin(
        """
        from timerctl import callback

        @callback("shout")
        async def shout(text: str) -> str:
            return text.upper()
        """
    )
    text = (
        f'[run]\nplugins = ["{name}"]\n\n[[call]]\nsoon = true\ncallback = "shout"\nargs = ["a"]\n'
    )
    schedule = load_text(text, "s.toml", registry=fresh)
    assert schedule.run.plugins == (name,)
    assert [c.callback for c in schedule.calls] == ["shout"]
    assert fresh.get("shout").is_async

    with pytest.raises(ScheduleError) as info:
        load_text(text.replace('["a"]', '["a", "b"]'), "s.toml", registry=fresh)
    assert [(p.line, p.col) for p in info.value.problems] == [(7, 1)]
    assert "bad arguments for 'shout': too many positional arguments" in str(info.value.problems[0])


def test_a_failing_plugin_is_reported_at_its_line(fresh: Registry, plugin) -> None:
    name = plugin("raise RuntimeError('boom\\nsecond line')\n")
    text = f'[run]\nloop = "asyncio"\nplugins = ["{name}"]\n[[call]]\nsoon = true\ncallback = "x"\n'
    with pytest.raises(ScheduleError) as info:
        load_text(text, "s.toml", registry=fresh)
    assert [str(p) for p in info.value.problems] == [
        f"s.toml:3:1: error: plugin '{name}' failed while importing: "
        "RuntimeError: boom\\nsecond line",
    ]  # the unknown callback is most likely the failed plugin's own: not reported again
