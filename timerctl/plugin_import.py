"""Importing a plugin the user named (``run``): where it is found, and what its failure says.

The counterpart of ``plugin_source``, which reads a plugin without running it (``check``,
``plan``). Here the module runs, so its ``@callback`` functions register; whatever goes wrong
while it runs is a ``PluginError`` naming the plugin, never our traceback.
"""

from __future__ import annotations

import importlib
import os
import sys

from .errors import PluginError


def plugin_location(module: str, here: str | None) -> tuple[str, str | None]:
    """(module name, folder to look in next) of what ``--plugin`` named: a module, or a
    path to a ``.py`` file (relative to ``here``) naming the module in it."""
    if not isinstance(module, str) or not module.strip():
        raise PluginError("a plugin must be a module name")
    if here is not None and module.endswith(".py"):
        folder, file = os.path.split(os.path.join(here, module))
        return file[:-3], folder
    return module, here


def import_plugin(module: str, here: str | None) -> None:
    """Import ``module`` (looked for in ``here`` after the import path); raises PluginError."""
    try:
        _import(module, here)
    except ImportError as exc:
        hint = _not_found_hint(module, here, exc)
        raise PluginError(f"cannot import plugin '{module}': {exc}{hint}") from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a plugin's bug must not become our traceback
        raise PluginError(
            f"plugin '{module}' failed while importing: {type(exc).__name__}: {exc}"
        ) from exc


def _import(module: str, here: str | None) -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.partition(".")[0]
        if here is None or exc.name != top or not _module_in(here, top):
            raise
        _import_from(here, top)  # that module alone: the folder is not put on sys.path
        importlib.import_module(module)


def _not_found_hint(module: str, here: str | None, exc: ImportError) -> str:
    """Where else a missing plugin could be put, when ``--plugin`` named it."""
    if here is None or not isinstance(exc, ModuleNotFoundError) or exc.name != module:
        return ""
    return (
        f" (looked on the import path and in {here}: put {module}.py there, "
        "name its file as --plugin path/to/file.py, set PYTHONPATH, or "
        "install it)"
    )


def _import_from(folder: str, name: str) -> None:
    """Import the top-level module or package ``name`` from ``folder``, as ``import name``
    would from there, without adding the folder to sys.path (where a later import of anything
    missing -- a uvloop.py -- would find a file of the current folder)."""
    import importlib.util

    path = os.path.join(folder, name)
    if os.path.isfile(os.path.join(path, "__init__.py")):
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(path, "__init__.py"), submodule_search_locations=[path]
        )
    else:
        spec = importlib.util.spec_from_file_location(name, path + ".py")
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        del sys.modules[name]
        raise


def _module_in(folder: str, name: str) -> bool:
    path = os.path.join(folder, name)
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))
