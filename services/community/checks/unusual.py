"""Patterns to warn about before a template is imported: what could make an expert obey the
template's author instead of its owner, or show its reader something other than what the
model receives.

An imported template becomes part of an expert's system prompt, so it is read by a model
that follows instructions. None of these patterns is forbidden — a template about web pages
may well contain HTML — but each is a reason to read the template before trusting it, and
the import dialog names every one, by line and kind:

- instruction to ignore earlier instructions: the phrasings prompt injections use ("ignore
  all previous instructions", "disregard the system prompt", "forget everything above", "do
  not follow your earlier rules", "you are no longer bound by"), in English, French, German
  and Spanish. Ordinary advice ("ignore previous results if the sample is contaminated")
  names no instructions and is left alone.
- hidden Unicode: characters that render as nothing — zero-width space, joiner and non-joiner,
  word joiner, invisible operators, soft hyphen, byte-order mark inside the text, Hangul
  fillers — and the tag characters (U+E0000…) and variation selectors supplement that can
  carry a whole hidden sentence (the excerpt shows what tag characters spell). Left alone:
  a zero-width joiner inside an emoji sequence, a non-joiner between letters of scripts
  that need it (Persian, Indic), tag characters spelling a subdivision flag after 🏴, and a
  byte-order mark as the very first character.
- bidirectional Unicode: embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
  that make text display in another order than it is read ("Trojan Source"). The plain
  left-to-right and right-to-left marks are ordinary in right-to-left writing and reorder
  nothing on their own, so they are not reported.
- URL: http(s), ftp, file, ws(s) addresses, www. hosts and data: URLs, where a template could
  send a model to fetch instructions or leak answers (an image URL carrying a query).
- long base64 run: 48 or more base64 characters mixing upper case, lower case and digits
  (hashes in lower-case hex and ordinary words do not qualify): a payload no reader can read.
- script or active HTML: script, iframe, object, embed, form, style, svg and similar tags,
  event-handler attributes (onerror=…) and javascript:/vbscript: URLs. The console renders
  templates sanitized, so they do not run there; they are reported because they have no
  business in a prompt.
- HTML comment: text the rendered page hides but the model reads.
- HTML: other HTML elements. The names prompt templates commonly use as structure tags
  (input, output, summary, title, code, section, label, header, footer, main, article) are
  not reported, nor are tags that are not HTML at all (<context>, <question>).
- tool-call syntax: <tool_call>, <function_call>, <invoke name=…>, <function=…>,
  [TOOL_CALLS], JSON such as {"name": …, "arguments": …} and the identifiers function_call
  and tool_calls, which could make a model believe a tool was called or must be.
- chat control token: the special tokens of chat formats (<|im_start|>, <|eot_id|>,
  [INST], <<SYS>>, <start_of_turn>) with which a text pretends to be another turn.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from services.community.checks.findings import Finding, lines_of, shorten

OVERRIDE = "instruction to ignore earlier instructions"
HIDDEN = "hidden Unicode"
BIDI = "bidirectional Unicode"
URL = "URL"
BASE64 = "long base64 run"
SCRIPT = "script or active HTML"
COMMENT = "HTML comment"
HTML = "HTML"
TOOL_CALL = "tool-call syntax"
CONTROL_TOKEN = "chat control token"

# -- phrasings ------------------------------------------------------------------------------

_VERB = r"(?:ignore|disregard|forget|override|bypass|discard|abandon)"
_EARLIER = (
    r"(?:previous|prior|earlier|above|preceding|foregoing|former|original|initial|old|existing"
    r"|system|developer)"
)
_ORDERS = (
    r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|messages"
    r"|context|commands|constraints|orders|conversation|text)"
)
_OVERRIDES = [
    re.compile(
        rf"(?i)\b{_VERB}\s+(?:(?:all|any|each|every)\s+(?:of\s+)?)?(?:(?:the|your|my|these|those|its)\s+)?"
        rf"{_EARLIER}\s+(?:[a-z-]+\s+)?{_ORDERS}\b"
    ),
    re.compile(
        r"(?i)\b(?:ignore|disregard|forget)\s+(?:all|everything|anything)\s+(?:"
        r"(?:that\s+)?you(?:'ve|\s+have|\s+were|\s+are)?\s+(?:been\s+)?(?:told|given|taught|instructed)"
        r"|(?:that\s+)?(?:was\s+|is\s+|came\s+)?(?:said\s+)?(?:above|before|previously|so\s+far|earlier))"
    ),
    re.compile(
        r"(?i)\b(?:ignore|disregard)\s+(?:all|any)\s+(?:(?:the|your|of\s+the|of\s+your)\s+)?"
        r"(?:instructions|rules|prompts|guidelines)\b"
    ),
    re.compile(
        r"(?i)\b(?:do\s+not|don't|never|stop)\s+(?:follow(?:ing)?|obey(?:ing)?)\s+(?:(?:the|your|any)\s+)?"
        rf"{_EARLIER}\s+(?:instructions|rules|prompts?|guidelines)\b"
    ),
    re.compile(r"(?i)\byou\s+are\s+no\s+longer\s+bound\s+by\b"),
    re.compile(
        r"(?i)\b(?:ignore[rz]?|oublie[rz]?)\s+(?:toutes\s+)?(?:les|tes|vos)\s+"
        r"(?:instructions|consignes|règles)\s+(?:précédentes|antérieures|ci-dessus)"
    ),
    re.compile(
        r"(?i)\b(?:ignoriere|ignorieren\s+sie|vergiss|vergessen\s+sie)\s+(?:alle\s+)?(?:die\s+)?"
        r"(?:vorherigen|bisherigen|obigen|vorigen|früheren)\s+(?:Anweisungen|Instruktionen|Regeln|Befehle)"
    ),
    re.compile(
        r"(?i)\b(?:ignora|olvida|ignore|olvide)\s+(?:todas\s+)?(?:las\s+)?"
        r"(?:instrucciones|reglas|órdenes)\s+(?:anteriores|previas)"
    ),
]

# -- characters -----------------------------------------------------------------------------

_INVISIBLE = {
    0x00AD, 0x034F, 0x115F, 0x1160, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062,
    0x2063, 0x2064, 0x3164, 0xFEFF, 0xFFA0,
}  # fmt: skip
_BIDI = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))
_TAGS = range(0xE0000, 0xE0080)
_SELECTORS = range(0xE0100, 0xE01F0)
_BLACK_FLAG = "\U0001f3f4"
_ZWJ, _ZWNJ = "\u200d", "\u200c"

# -- markup and syntax ----------------------------------------------------------------------

_URLS = re.compile(
    r"(?i)(?<![\w.-])(?:(?:https?|ftps?|sftp|file|wss?)://[^\s<>\"'`]+|www\.[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}[^\s<>\"'`]*"
    r"|data:[a-z]+/[a-z0-9.+-]+[;,][^\s<>\"'`]*)"
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{48,}={0,2}")
_ACTIVE_TAG = re.compile(
    r"(?i)</?(?:script|iframe|frame|frameset|object|embed|applet|form|style|svg|math|meta"
    r"|link|base|template|portal)(?=[\s/>])[^>]*>?"
)
_HANDLER = re.compile(r"""(?i)<[a-z][^<>]*?[\s/"']on[a-z]+\s*=[^<>]*>?""")
_SCRIPT_URL = re.compile(
    r"""(?i)(?<![\w-])(?:javascript|vbscript|livescript):(?=[\w/%(])[^\s"'<>`]*"""
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)")
_HTML_NAMES = (
    "a|abbr|address|area|aside|audio|b|bdi|bdo|big|blink|blockquote|body|br|button|canvas|caption"
    "|center|cite|col|colgroup|dd|del|details|dfn|dialog|div|dl|dt|em|fieldset|figcaption|figure"
    "|font|h[1-6]|head|hr|html|i|img|ins|kbd|legend|li|map|mark|marquee|menu|meter|nav|noscript"
    "|ol|optgroup|option|p|picture|pre|progress|q|rp|rt|ruby|s|samp|select|small|source|span"
    "|strike|strong|sub|sup|table|tbody|td|textarea|tfoot|th|thead|tr|track|tt|u|ul|var|video|wbr"
)
# With attributes, one must have a value: `<a few words>` is a placeholder, `<a href=…>` a tag.
_HTML_TAG = re.compile(rf"(?i)</?(?:{_HTML_NAMES})(?:\s[^<>]*?[\w-]\s*=[^<>]*)?\s*/?>")
_TOOL_CALLS = re.compile(
    r"(?i)</?(?:tool_calls?|tool_use|tool_result|tool_response|function_calls?|function_results?)\b[^>]*>"
    r"|<invoke\s+name\s*=|<function\s*=\s*\w+|\[(?:TOOL_CALLS|AVAILABLE_TOOLS|TOOL_RESULTS)\]"
    r"|\{\s*\"name\"\s*:\s*\"[^\"]*\"\s*,\s*\"(?:arguments|parameters|args|input)\"\s*:"
    r"|\{\s*\"(?:arguments|parameters)\"\s*:.*?\"name\"\s*:"
    r"|\b(?:function_call|tool_calls)\b"
)
_CONTROL_TOKENS = re.compile(
    r"<\|[A-Za-z0-9_]+\|?>|\[/?INST\]|<</?SYS>>|</?(?:start_of_turn|end_of_turn)>"
)

_MARKUP = [
    (SCRIPT, _ACTIVE_TAG),
    (SCRIPT, _HANDLER),
    (SCRIPT, _SCRIPT_URL),
    (COMMENT, _COMMENT),
    (HTML, _HTML_TAG),
    (TOOL_CALL, _TOOL_CALLS),
    (CONTROL_TOKEN, _CONTROL_TOKENS),
    (URL, _URLS),
]


def find_unusual(text: str) -> list[Finding]:
    """Every unusual pattern in `text`, by line; hidden and bidirectional characters are
    reported once per line and kind, with what they are and how many."""
    findings: list[Finding] = []
    for number, line in enumerate(lines_of(text), start=1):
        findings.extend(_characters(number, line, first_line=number == 1))
        for match in _overrides(line):
            findings.append(Finding(number, OVERRIDE, visible(shorten(match))))
        # Columns covered by script or comment findings (an HTML tag there is not reported
        # again) and by any markup finding (a base64-looking run there is part of it).
        active, markup = bytearray(len(line)), bytearray(len(line))
        for kind, pattern in _MARKUP:
            for match in pattern.finditer(line):
                start, end = match.span()
                if kind == HTML and active.find(1, start, end) != -1:
                    continue
                if kind in (SCRIPT, COMMENT):
                    active[start:end] = b"\x01" * (end - start)
                markup[start:end] = b"\x01" * (end - start)
                excerpt = match.group().rstrip(".,;:!?)") if kind == URL else match.group()
                findings.append(Finding(number, kind, visible(shorten(excerpt))))
        for match in _BASE64.finditer(line):
            run = match.group()
            mixed = re.search("[a-z]", run) and re.search("[A-Z]", run) and re.search("[0-9]", run)
            if mixed and markup.find(1, *match.span()) == -1:
                findings.append(Finding(number, BASE64, f"{run[:12]}… ({len(run)} characters)"))
    return findings


def visible(text: str) -> str:
    """`text` with invisible and bidirectional characters written as \\uXXXX, so an excerpt
    shows what is there (and cannot itself reorder the sentence it is shown in)."""
    return "".join(
        f"\\u{ord(c):04X}" if _is_hidden_codepoint(ord(c)) or ord(c) in _BIDI else c for c in text
    )


def _is_hidden_codepoint(code: int) -> bool:
    return code in _INVISIBLE or code in _TAGS or code in _SELECTORS


def _overrides(line: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for pattern in _OVERRIDES:
        for match in pattern.finditer(line):
            if not any(start <= match.start() < start + len(text) for start, text in found):
                found.append((match.start(), match.group()))
    return [text for _, text in sorted(found)]


def _characters(number: int, line: str, *, first_line: bool) -> list[Finding]:
    hidden: Counter[str] = Counter()
    bidi: Counter[str] = Counter()
    tag_text: list[str] = []
    i = 0
    while i < len(line):
        char, code = line[i], ord(line[i])
        if code in _TAGS:
            end = i
            while end < len(line) and ord(line[end]) in _TAGS:
                end += 1
            run = line[i:end]
            if not _is_flag(line, i, run):
                tag_text.append("".join(_untag(c) for c in run))
                hidden["tag characters"] += len(run)
            i = end
            continue
        if code in _BIDI:
            bidi[_name(char)] += 1
        elif (code in _INVISIBLE or code in _SELECTORS) and not _allowed_invisible(
            line, i, first_line=first_line
        ):
            hidden["variation selectors supplement" if code in _SELECTORS else _name(char)] += 1
        i += 1
    findings = []
    if +hidden:
        parts = [f"{name} ×{count}" for name, count in (+hidden).items()]
        spelled = " ".join(text for text in tag_text if text)
        if spelled:
            parts.append(f'hidden text "{shorten(spelled, 80)}"')
        findings.append(Finding(number, HIDDEN, ", ".join(parts)))
    if bidi:
        findings.append(Finding(number, BIDI, ", ".join(f"{n} ×{c}" for n, c in bidi.items())))
    return findings


def _untag(char: str) -> str:
    """What a tag character spells: U+E0020…U+E007E mirror printable ASCII."""
    code = ord(char) - 0xE0000
    return chr(code) if 0x20 <= code < 0x7F else ""


def _name(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}"


def _is_flag(line: str, start: int, run: str) -> bool:
    """🏴 followed by lower-case tag letters and the cancel tag: England, Scotland, Wales."""
    body = run[:-1]
    return (
        start > 0
        and line[start - 1] == _BLACK_FLAG
        and run.endswith("\U000e007f")
        and 2 <= len(body) <= 7
        and all(0xE0061 <= ord(c) <= 0xE007A or 0xE0030 <= ord(c) <= 0xE0039 for c in body)
    )


def _allowed_invisible(line: str, i: int, *, first_line: bool) -> bool:
    char = line[i]
    before = line[i - 1] if i > 0 else ""
    after = line[i + 1] if i + 1 < len(line) else ""
    if char == "\ufeff":
        return first_line and i == 0
    if char == _ZWJ:
        return _emoji_part(before) and _emoji_part(after)
    if char == _ZWNJ:
        return _joining_letter(before) and _joining_letter(after)
    return False


def _emoji_part(char: str) -> bool:
    return bool(char) and (
        unicodedata.category(char) in {"So", "Sk"}
        or char == "\ufe0f"
        or 0x1F3FB <= ord(char) <= 0x1F3FF
    )


def _joining_letter(char: str) -> bool:
    return bool(char) and not char.isascii() and unicodedata.category(char)[0] in {"L", "M"}
