"""``python -m timerctl``: the CLI, without the current folder on sys.path.

``python -m`` puts the current folder first on sys.path, so a ``click.py`` or ``inspect.py``
in a folder of downloaded schedules would run as soon as timerctl imports it. The console
script never had that folder on its path; neither does this (Python 3.11's ``-P`` does the same
for the interpreter). Nothing is imported before it is gone.
"""

import os  # os and sys are loaded before any code of ours runs: nothing new is imported
import sys


def _drop_cwd() -> None:
    if sys.flags.safe_path or not sys.path:
        return
    first = sys.path[0]
    try:
        here = os.getcwd()
    except OSError:  # the folder was removed under us: the entry finds nothing anyway
        here = None
    if first == "" or first == here:
        del sys.path[0]


#: ``signals.ENDING`` by name (a test keeps them equal)
FIRST_HANDLED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM")


#: the signals ``_first`` raised for: raised inside an import's weakref callback, the exception
#: is swallowed ("Exception ignored in ..."), so the signal is noted here and acted on below
_came: list[int] = []


def _first(signum: int, _frame: object) -> None:
    _came.append(signum)
    raise KeyboardInterrupt(signum)  # signals.code_of reads the number


def _quiet_unraisable(unraisable: object, _previous: object = sys.unraisablehook) -> None:
    if _came and isinstance(getattr(unraisable, "exc_value", None), KeyboardInterrupt):
        return  # ours, swallowed where it was raised: noted in _came, no traceback
    _previous(unraisable)  # type: ignore[operator]


def main() -> None:
    """The console script (and ``python -m``): signals are handled from the first moment, before
    click and the rest are imported (a Ctrl-C meanwhile was a traceback), then the CLI runs.

    Until ``timerctl.signals`` is imported, a bare handler for its ENDING signals (by name: the
    module is what this must not wait for) turns them into a KeyboardInterrupt.
    """
    try:
        import signal  # here, not above: ``python -m`` has taken the current folder off sys.path

        sys.unraisablehook = _quiet_unraisable
        for name in FIRST_HANDLED:
            sig = getattr(signal, name, None)
            if sig is not None and signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, _first)
        from timerctl.signals import install_early

        install_early()
        if _came:  # came while timerctl.signals was imported, and was swallowed there
            raise KeyboardInterrupt(_came[-1])
        from timerctl.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt as exc:  # while click and the rest were imported, or on the way out
        from timerctl.signals import code_of

        code, reason = code_of(exc)
        sys.stderr.write(f"timerctl: {reason}\n")
        sys.exit(code)


if __name__ == "__main__":
    _drop_cwd()
    main()
