"""timerctl: schedule calls at precise moments on an asyncio event loop, from a TOML file.

The public API for plugins is the ``@callback`` decorator (and ``current_run`` for callbacks that
need to act on their run).
"""

TYPE_CHECKING = False  # not typing's: no import at all (see __getattr__)
if TYPE_CHECKING:
    from .context import current_run
    from .registry import callback

__all__ = ["__version__", "callback", "current_run"]


def __getattr__(name: str) -> object:
    # Imported on first use, not with the package: ``python -m timerctl`` runs this file before
    # its __main__ can take the current folder off sys.path (see __main__.py), so nothing here
    # may import a module that folder could shadow. importlib.metadata also costs start-up time.
    if name == "callback":
        from .registry import callback

        return callback
    if name == "current_run":
        from .context import current_run

        return current_run
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("timerctl")
        except PackageNotFoundError:
            return "0+unknown"
    raise AttributeError(name)
