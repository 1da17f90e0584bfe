"""Decide what kind of document an upload is by looking at its bytes.

The file name never decides whether content is acceptable: a PNG renamed to ``report.pdf``
is rejected as a PNG, and a text file named ``notes.pdf`` is accepted as text. The name is
only used to tell Markdown from plain text once the content is known to be text.

Callers pass the first :data:`HEAD_SIZE` bytes (or fewer, for a smaller file) to
:func:`detect_media_type`. It returns one of ``contracts.ingest.MEDIA_TYPES`` or raises
:class:`UnsupportedType` / :class:`EmptyFile`, whose ``reason`` is a sentence that can be
shown to a non-technical person as is (``str(exc) == exc.reason``). Both exceptions also
carry a short machine-readable ``code`` ("unsupported_type", "empty");
:class:`UnsupportedType` has ``detected``, a short label such as "PNG image".

Rules, in order:

1. No bytes, or nothing but whitespace (when ``head`` is the whole file, i.e. shorter than
   :data:`HEAD_SIZE`), is :class:`EmptyFile`.
2. ``%PDF-<digit>.<digit>`` within the first 1024 bytes is a PDF (the PDF specification
   lets readers tolerate junk before the header).
3. UTF-8 (a leading byte-order mark is fine, as is a multi-byte character cut off by the end
   of ``head``) with no NUL byte and almost no control characters other than tab, line feed,
   carriage return and form feed is text: Markdown for ``.md``/``.markdown`` names, plain
   text otherwise. Rich Text Format, although technically text, is refused by name.
4. Anything else is refused, naming the type when a known signature is recognised (images,
   Office documents, archives, programs, audio/video, UTF-16 or legacy-encoded text ...).
"""

from __future__ import annotations

import codecs
import re

PDF = "application/pdf"
TEXT = "text/plain"
MARKDOWN = "text/markdown"

HEAD_SIZE = 64 * 1024
"""How many leading bytes of a file :func:`detect_media_type` wants to see."""

ACCEPTED = "Simtune accepts PDF, plain-text (.txt) and Markdown (.md) files."

_PDF_SIGNATURE = re.compile(rb"%PDF-\d\.\d")
_PDF_WINDOW = 1024
_MARKDOWN_SUFFIXES = (".md", ".markdown")
# C0/C1 control characters except tab, line feed, form feed and carriage return.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_RATIO = 0.01  # "almost no" control characters


class UnsupportedType(Exception):
    """The content is not a PDF, plain-text or Markdown document."""

    code = "unsupported_type"

    def __init__(self, reason: str, *, detected: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detected = detected  # short label such as "PNG image"


class EmptyFile(Exception):
    """The file has no content, or nothing but blank space."""

    code = "empty"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def detect_media_type(head: bytes, filename: str) -> str:
    """Return the media type of a file from its first bytes (see the module docstring)."""
    if not head:
        raise EmptyFile("This file is empty, so there is nothing in it for Simtune to learn from.")
    match = _PDF_SIGNATURE.search(head[: _PDF_WINDOW + len("%PDF-1.7")])
    if match is not None and match.start() < _PDF_WINDOW:
        return PDF

    text = _as_text(head)
    if text is not None:
        if not text.strip() and len(head) < HEAD_SIZE:
            raise EmptyFile(
                "This file contains only blank space and no text, so there is nothing in it "
                "for Simtune to learn from."
            )
        if text.lstrip().startswith("{\\rtf"):
            raise _unsupported("Rich Text (RTF) document", "a Rich Text (RTF) document")
        if filename.lower().rstrip().endswith(_MARKDOWN_SUFFIXES):
            return MARKDOWN
        return TEXT

    raise _identify_binary(head)


def _as_text(head: bytes) -> str | None:
    """Decode ``head`` as UTF-8 text, or return None when it does not look like text."""
    if b"\x00" in head:
        return None
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # final=False keeps a multi-byte character cut off at the end of `head` pending
        # instead of failing on it.
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if len(_CONTROL_CHARS.findall(text)) > _MAX_CONTROL_RATIO * len(text):
        return None
    return text


# (signature, offset, short label, phrase used in the sentence)
_SIGNATURES: list[tuple[bytes, int, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "PNG image", "a PNG image"),
    (b"\xff\xd8\xff", 0, "JPEG image", "a JPEG image"),
    (b"GIF87a", 0, "GIF image", "a GIF image"),
    (b"GIF89a", 0, "GIF image", "a GIF image"),
    (b"II*\x00", 0, "TIFF image", "a TIFF image"),
    (b"MM\x00*", 0, "TIFF image", "a TIFF image"),
    (b"BM", 0, "BMP image", "a BMP image"),
    (b"\x00\x00\x01\x00", 0, "icon image", "an icon image"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        0,
        "legacy Office document",
        "an older Microsoft Office document (.doc, .xls or .ppt)",
    ),
    (b"\x1f\x8b", 0, "gzip archive", "a gzip-compressed file"),
    (b"BZh", 0, "bzip2 archive", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", 0, "xz archive", "an xz-compressed file"),
    (b"(\xb5/\xfd", 0, "zstd archive", "a zstd-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", 0, "7-Zip archive", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "RAR archive", "a RAR archive"),
    (b"ustar", 257, "tar archive", "a tar archive"),
    (b"\x7fELF", 0, "executable program", "a program (executable) file"),
    (b"MZ", 0, "Windows executable program", "a Windows program (executable) file"),
    (b"\xfe\xed\xfa\xce", 0, "executable program", "a program (executable) file"),
    (b"\xfe\xed\xfa\xcf", 0, "executable program", "a program (executable) file"),
    (b"\xce\xfa\xed\xfe", 0, "executable program", "a program (executable) file"),
    (b"\xcf\xfa\xed\xfe", 0, "executable program", "a program (executable) file"),
    (b"\xca\xfe\xba\xbe", 0, "executable program", "a program (executable) file"),
    (b"\x00asm", 0, "WebAssembly program", "a WebAssembly program file"),
    (b"SQLite format 3\x00", 0, "SQLite database", "an SQLite database"),
    (b"ID3", 0, "MP3 audio", "an MP3 audio file"),
    (b"\xff\xfb", 0, "MP3 audio", "an MP3 audio file"),
    (b"\xff\xf3", 0, "MP3 audio", "an MP3 audio file"),
    (b"OggS", 0, "Ogg audio/video", "an Ogg audio or video file"),
    (b"fLaC", 0, "FLAC audio", "a FLAC audio file"),
    (b"\x1a\x45\xdf\xa3", 0, "Matroska/WebM video", "a video file (MKV or WebM)"),
    (b"wOFF", 0, "web font", "a font file"),
    (b"wOF2", 0, "web font", "a font file"),
    (b"\x00\x01\x00\x00\x00", 0, "font", "a font file"),
    (b"OTTO", 0, "font", "a font file"),
]

_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# (marker inside the first bytes of the archive, label, phrase)
_ZIP_KINDS: list[tuple[bytes, str, str]] = [
    (b"mimetypeapplication/epub+zip", "EPUB e-book", "an EPUB e-book"),
    (
        b"mimetypeapplication/vnd.oasis.opendocument.text",
        "OpenDocument text",
        "an OpenDocument text document (.odt)",
    ),
    (
        b"mimetypeapplication/vnd.oasis.opendocument",
        "OpenDocument file",
        "an OpenDocument file (LibreOffice/OpenOffice)",
    ),
    (b"word/", "Word document", "a Word document (.docx)"),
    (b"xl/", "Excel spreadsheet", "an Excel spreadsheet (.xlsx)"),
    (b"ppt/", "PowerPoint presentation", "a PowerPoint presentation (.pptx)"),
]
_RIFF_KINDS = {
    b"WEBP": ("WebP image", "a WebP image"),
    b"WAVE": ("WAV audio", "a WAV audio file"),
    b"AVI ": ("AVI video", "an AVI video file"),
}
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def _unsupported(label: str, phrase: str) -> UnsupportedType:
    return UnsupportedType(f"This file looks like {phrase}; {ACCEPTED}", detected=label)


def _identify_binary(head: bytes) -> UnsupportedType:
    """Build the rejection for content that is neither PDF nor text, naming it if possible."""
    if head.startswith(_ZIP_SIGNATURES):
        for marker, label, phrase in _ZIP_KINDS:
            if marker in head:
                return _unsupported(label, phrase)
        return _unsupported("ZIP archive", "a ZIP archive")
    if head.startswith(b"RIFF") and head[8:12] in _RIFF_KINDS:
        return _unsupported(*_RIFF_KINDS[head[8:12]])
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return _unsupported("HEIC/AVIF image", "a HEIC or AVIF photo")
        if brand.startswith(b"M4A"):
            return _unsupported("M4A audio", "an M4A audio file")
        return _unsupported("MP4/MOV video", "a video file (MP4 or MOV)")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UnsupportedType(
            "This text file is saved in the UTF-16 encoding, which Simtune cannot read; "
            "save it again as UTF-8 text and upload it again. " + ACCEPTED,
            detected="UTF-16 text",
        )
    for signature, offset, label, phrase in _SIGNATURES:
        if head.startswith(signature, offset):
            return _unsupported(label, phrase)
    if _looks_like_legacy_text(head):
        return UnsupportedType(
            "This looks like a text file, but it is not saved as UTF-8 (it probably uses an "
            "older encoding such as Windows-1252); save it again as UTF-8 text and upload it "
            "again. " + ACCEPTED,
            detected="text in a legacy encoding",
        )
    return UnsupportedType(
        f"This file is not a document Simtune can read (unrecognised binary file); {ACCEPTED}",
        detected="unrecognised binary file",
    )


def _looks_like_legacy_text(head: bytes) -> bool:
    """True for 8-bit text that is not UTF-8 (e.g. Latin-1): no NULs, mostly printable ASCII."""
    if b"\x00" in head:
        return False
    printable = len(head) - len(head.translate(None, _PRINTABLE_ASCII))
    controls = len(head) - len(head.translate(None, _C0_CONTROLS))
    return printable >= 0.8 * len(head) and controls <= _MAX_CONTROL_RATIO * len(head)


_PRINTABLE_ASCII = bytes(range(32, 127)) + b"\t\n\f\r"
_C0_CONTROLS = bytes(b for b in range(32) if b not in b"\t\n\f\r")
