"""The TOML parser, chosen once: toml_rs (Rust's ``toml`` crate) pinned to TOML 1.0.0, with
tomllib as the fallback where its wheel is missing.

Every other module of ``load`` reaches the parser through here, so the version pin and the
fallback are written once.
"""

from __future__ import annotations

from typing import Any, Final

toml_rs: Any
try:
    import toml_rs
except ImportError:  # pragma: no cover - the wheel is a dependency; tomllib is the fallback
    toml_rs = None

#: the TOML version a schedule is read as: toml_rs defaults to 1.1, whose meaning differs
TOML_VERSION: Final = "1.0.0"

PARSER = "toml_rs" if toml_rs is not None else "tomllib"


def loads(text: str) -> dict[str, Any]:
    """The document, or the parser's own decode error (see ``decode_errors``)."""
    if toml_rs is not None:
        return toml_rs.loads(text, toml_version=TOML_VERSION)  # type: ignore[no-any-return]
    import tomllib

    return tomllib.loads(text)


def decode_errors() -> tuple[type[Exception], ...]:
    """What ``loads`` raises for text that is not TOML (read when called: a test may take
    toml_rs away)."""
    import tomllib

    if toml_rs is not None:
        return (tomllib.TOMLDecodeError, toml_rs.TOMLDecodeError)
    return (tomllib.TOMLDecodeError,)


def metadata(text: str) -> Any:
    """Where every key and value of the text was written (toml_rs only; ~9x a plain parse)."""
    return toml_rs.load_with_metadata(text, toml_version=TOML_VERSION)
