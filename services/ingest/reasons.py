"""Why a document was rejected, when parsing did not say (`parsing.ParseError` does):
each reason is one sentence a person can act on, with the code that goes with it."""

from __future__ import annotations

from services.ingest.sandbox import ReaderCrashed, TooComplex

MB = 1024 * 1024


def missing() -> tuple[str, str]:
    return (
        "missing",
        "The stored copy of this file is gone, so Simtune cannot read it; delete this "
        "document and upload the file again.",
    )


def damaged() -> tuple[str, str]:
    return (
        "damaged",
        "The stored copy of this file is damaged, so Simtune cannot read it; delete this "
        "document and upload the file again.",
    )


def too_complex(exc: TooComplex) -> tuple[str, str]:
    if exc.limit == "time":
        return (
            "too_complex",
            "This file takes longer to read than Simtune allows"
            f" ({_duration(exc.limits.timeout_s)}); split it into smaller files and upload"
            " those.",
        )
    return (
        "too_complex",
        "This file needs more memory to read than Simtune allows"
        f" ({exc.limits.memory_bytes // MB} MB); split it into smaller files, or save it again"
        " as a simpler PDF, and upload those.",
    )


def gave_up(error: BaseException, attempts: int, memory_bytes: int) -> tuple[str, str]:
    """The reason after the last of `attempts` failed attempts ended with `error`."""
    if isinstance(error, ReaderCrashed):
        return (
            "too_complex",
            f"Simtune's reader stopped each of the {attempts} times it tried this file, which"
            f" usually means the file needs more memory than Simtune allows"
            f" ({memory_bytes // MB} MB); split it into smaller files, or save it again as a"
            " simpler PDF, and upload those.",
        )
    return (
        "failed",
        f"Simtune tried {attempts} times to read this file and failed each time; delete it and"
        " upload it again, and if that fails too, tell whoever runs your Simtune.",
    )


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return "1 second" if seconds == 1 else f"{seconds:g} seconds"
