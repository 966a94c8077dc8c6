"""Turn a text file's bytes into str: BOMs, UTF-8, BOM-less UTF-16, GB18030, binary detection."""

from __future__ import annotations

import codecs
import re

_UNDECODABLE = "cannot decode as UTF-8/UTF-16/GB18030"
# Whitespace controls (\t \n \v \f \r) are legitimate in text; everything else C0/C1 is not.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Chroma stores UTF-8: lone surrogates cannot be encoded and NUL/noncharacters upset SQLite FTS.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff\ufffe\uffff]")
_STRAY_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Unreadable(Exception):
    """Bytes that cannot become text; the message is the reason the file is skipped."""


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name) of raw bytes; raises Unreadable with the skip reason."""
    text, encoding, _ = decode_counted(raw)
    return text, encoding


def decode_counted(raw: bytes) -> tuple[str, str, int]:
    """(text, encoding name, bytes replaced by U+FFFD): a UTF-8 file with a few bad bytes (a
    damaged download, one pasted Latin-1 character) is kept; raises Unreadable otherwise."""
    if raw.startswith(codecs.BOM_UTF8):
        # A BOM declares the encoding, so a stray bad byte is replaced rather than fatal.
        text, encoding = raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
        if _control_ratio(text) > 0.02:
            raise Unreadable("binary file (control characters)")
        return text, encoding, _count_bad_utf8(raw[3:])
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = raw.decode("utf-16", errors="replace"), "utf-16"
    elif b"\x00" in raw:
        return (*_bomless_utf16(raw), 0)
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return _mostly_utf8_or_gb18030(raw)
    if _control_ratio(text) > 0.02:
        raise Unreadable("binary file (control characters)")
    return text, encoding, 0


def _mostly_utf8_or_gb18030(raw: bytes) -> tuple[str, str, int]:
    """UTF-8 with a few bad bytes (at most 2, or 0.5% of the file) is UTF-8 with replacement,
    unless the whole file reads as plausible GB18030 and has no valid multibyte UTF-8 in it (a
    mostly-ASCII GBK file with one Chinese word also has few bad bytes)."""
    bad = _count_bad_utf8(raw)
    if bad > max(2, len(raw) // 200):
        return _gb18030(raw), "gb18030", 0
    text = raw.decode("utf-8", errors="replace")
    if not any(ord(c) > 0x7F and c != "\ufffd" for c in text):
        try:
            return _gb18030(raw), "gb18030", 0
        except Unreadable:
            pass
    if _control_ratio(text) > 0.02:
        raise Unreadable("binary file (control characters)")
    return text, "utf-8", bad


def _count_bad_utf8(raw: bytes) -> int:
    """How many bytes UTF-8 decoding would replace."""
    escaped = raw.decode("utf-8", errors="surrogateescape")
    return sum(1 for c in escaped if "\udc80" <= c <= "\udcff")


def _control_ratio(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(len(text), 1)


def _bomless_utf16(raw: bytes) -> tuple[str, str]:
    # ASCII-heavy UTF-16 has a NUL in (nearly) every high byte and almost none in the low ones;
    # binary data scatters NULs over both byte positions.
    units = len(raw) // 2
    even, odd = raw[0::2].count(0), raw[1::2].count(0)
    if len(raw) % 2 == 0:
        for nuls, others, codec in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if nuls < 0.2 * units or others > 0.02 * units:
                continue
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if _control_ratio(text) <= 0.01:
                return text, codec
    raise Unreadable("binary file (NUL bytes)")


def _gb18030(raw: bytes) -> str:
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise Unreadable(_UNDECODABLE) from None
    if _CONTROL.search(text):
        raise Unreadable("binary file (control characters)")
    # GB18030 maps almost any high-byte pair to some character, so Latin-1/CP1252 text also
    # "decodes"; real Chinese uses mostly the common GB2312 repertoire, misdecodes do not.
    wide = [c for c in text if ord(c) > 0x7F]
    common = sum(1 for c in wide if _in_gb2312(c))
    unassigned = sum(1 for c in wide if 0xE000 <= ord(c) <= 0xF8FF or ord(c) >= 0xF0000)
    if unassigned or common < 0.5 * len(wide):
        raise Unreadable(_UNDECODABLE)
    return text


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR become LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sanitise(text: str) -> str:
    """Text Chroma can store: unstorable characters become U+FFFD, stray controls spaces."""
    text = _UNSTORABLE.sub("\ufffd", text)
    # Same-length replacement keeps any offsets computed on this text valid.
    return _STRAY_CONTROL.sub(" ", text)
