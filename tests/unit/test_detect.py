"""Content-based type detection: what a person uploading a file would experience."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from gateway.http.filetypes import (
    HEAD_SIZE,
    EmptyFile,
    UnsupportedType,
    detect_media_type,
)
from tests.support.pdfs import make_pdf, make_png

ACCEPTED_HINT = "Simtune accepts PDF, plain-text (.txt) and Markdown (.md) files."


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_pdf_is_recognised_whatever_it_is_called():
    data = make_pdf(["Quarterly report."])
    assert detect_media_type(data[:HEAD_SIZE], "report.pdf") == "application/pdf"
    assert detect_media_type(data[:HEAD_SIZE], "download") == "application/pdf"
    assert detect_media_type(data[:HEAD_SIZE], "notes.txt") == "application/pdf"


def test_a_pdf_header_after_some_leading_junk_is_still_a_pdf():
    data = b"\x00" * 500 + make_pdf(["Hello there, world."])
    assert detect_media_type(data, "mail-attachment.bin") == "application/pdf"


def test_a_pdf_header_far_into_the_file_does_not_make_it_a_pdf():
    data = b"\x00\x01\x02\x03" * 300 + b"%PDF-1.7\n"
    with pytest.raises(UnsupportedType):
        detect_media_type(data, "file.pdf")


def test_a_png_renamed_to_pdf_is_rejected_as_a_png():
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(make_png(), "scan.pdf")
    error = caught.value
    assert error.detected == "PNG image"
    assert "PNG image" in error.reason
    assert ACCEPTED_HINT in error.reason
    assert str(error) == error.reason


def test_a_text_file_named_pdf_is_treated_as_text():
    assert detect_media_type(b"Meeting notes\n\nWe agreed on the plan.", "notes.pdf") == (
        "text/plain"
    )


@pytest.mark.parametrize("name", ["guide.md", "GUIDE.MD", "guide.markdown"])
def test_markdown_is_chosen_by_extension_for_text(name):
    assert detect_media_type(b"# Guide\n\nSome *text*.", name) == "text/markdown"


def test_the_same_text_without_a_markdown_extension_is_plain_text():
    assert detect_media_type(b"# Guide\n\nSome *text*.", "guide.txt") == "text/plain"


def test_utf8_with_byte_order_mark_and_accents_is_text():
    data = "\ufeffCaf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve \u65e5\u672c".encode()
    assert detect_media_type(data, "menu.txt") == "text/plain"


def test_a_multibyte_character_cut_off_at_the_end_of_the_head_is_tolerated():
    data = ("\u00e9t\u00e9 " * 20000).encode()  # much longer than the head
    head = data[:HEAD_SIZE]
    assert head[-1:] == b"\xc3"  # the head ends half-way through an "é"
    assert detect_media_type(head, "summer.txt") == "text/plain"


def test_tabs_form_feeds_and_windows_line_endings_are_fine_in_text():
    data = b"Col A\tCol B\r\nvalue\tvalue\r\n\fPage two\r\n"
    assert detect_media_type(data, "table.txt") == "text/plain"


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "JPEG image"),
        (b"GIF89a\x10\x00\x10\x00" + bytes(100), "GIF image"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"}),
            "Word document",
        ),
        (_zip({"xl/workbook.xml": b"<wb/>"}), "Excel spreadsheet"),
        (_zip({"ppt/presentation.xml": b"<p/>"}), "PowerPoint presentation"),
        (_zip({"photos/a.jpg": b"\xff\xd8\xff"}), "ZIP archive"),
        (gzip.compress(b"some text " * 50, mtime=0), "gzip"),  # no clock in its test id
        (b"\x7fELF\x02\x01\x01" + bytes(200), "program"),
        (b"MZ\x90\x00" + bytes(200), "program"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "older Microsoft Office"),
    ],
)
def test_common_binary_types_are_named_in_the_rejection(data, named):
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(data, "upload.pdf")
    assert named in caught.value.reason
    assert ACCEPTED_HINT in caught.value.reason


def test_an_unknown_binary_is_called_unrecognised():
    data = bytes((i * 37 + 11) % 256 for i in range(4096))
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(data, "mystery.txt")
    assert caught.value.detected == "unrecognised binary file"
    assert "unrecognised binary file" in caught.value.reason


def test_text_with_nul_bytes_is_not_text():
    with pytest.raises(UnsupportedType):
        detect_media_type(b"hello\x00world" * 10, "notes.txt")


def test_text_full_of_control_characters_is_not_text():
    with pytest.raises(UnsupportedType):
        detect_media_type(b"abc\x01\x02\x03\x04\x05def" * 50, "notes.txt")


def test_utf16_text_gets_a_re_save_as_utf8_hint():
    data = "Hello, this is a note.".encode("utf-16")
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(data, "note.txt")
    assert "UTF-16" in caught.value.reason
    assert "UTF-8" in caught.value.reason


def test_latin1_text_gets_a_re_save_as_utf8_hint():
    data = "Le caf\u00e9 est tr\u00e8s bon, m\u00eame le soir.\n".encode("latin-1") * 20
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(data, "note.txt")
    assert "not saved as UTF-8" in caught.value.reason


def test_rich_text_is_rejected_although_it_is_technically_text():
    with pytest.raises(UnsupportedType) as caught:
        detect_media_type(rb"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times;}} Hello}", "letter.txt")
    assert "RTF" in caught.value.reason


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n  \f ", b"\xef\xbb\xbf\n\n"])
def test_empty_or_blank_files_are_rejected_as_empty(data):
    with pytest.raises(EmptyFile) as caught:
        detect_media_type(data, "empty.txt")
    assert caught.value.reason
    assert str(caught.value) == caught.value.reason
    assert "nothing" in caught.value.reason
