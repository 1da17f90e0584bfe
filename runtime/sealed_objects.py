"""The sealed form of an object in the object store: what makes a forgotten person's
originals, datasets and adapters unreadable wherever their bytes are left behind.

Each object is encrypted with a key of its own, K (32 random bytes, AES-256-GCM), and K is
stored beside it *wrapped* by the owner's data key (`runtime.keyring`, with the bucket and
the object's name bound as associated data). Destroying the owner's data key leaves K
unopenable, and with it every copy of the object's bytes: in the NATS file store, in a
backup, in a block the file system has not reused yet.

The format says what it is, so a reader needs nothing but the bytes and the owner:

    magic    b"SIMOBJ1\\n"
    wrapped  u16 length, then K as `Keyring.seal` made it
    frames   u32 length, u8 flags (1 = last), 12-byte nonce, ciphertext and tag

Each frame holds up to `FRAME` bytes of plaintext, sealed with a fresh random nonce, and its
associated data names the bucket, the object, the frame's index and whether it is the last:
a frame moved, repeated, dropped, swapped with another object's or cut short does not open,
and an object that ends before its last frame, or goes on after it, is refused. Every
object, the empty one too, has at least one frame, the last.

Both directions stream: `SealingReader` is a readable file whose bytes are the sealed form
of its source (what the object store's `put` reads, block by block, in a worker thread) and
`OpeningWriter` a writable file that takes the stored bytes as they arrive and writes the
plaintext on (what `get` writes into, in a worker thread too). Neither holds more than two
frames. The reader hands out the header on its own, so it is the object's first chunk in the
store: a reader of the object opens the key from it (`wrapped_key_of`) on the event loop
before the rest is streamed, and no worker thread ever waits for the loop. An object that does not begin with the magic was stored before objects were sealed
and is passed through as it is, so an install's older objects stay readable.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from collections.abc import Callable
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"SIMOBJ1\n"
FRAME = 1 << 20  # bytes of plaintext in each frame but the last
NONCE = 12
TAG = 16
LAST = 1  # the flag of the object's last frame
WRAPPED = struct.Struct(">H")
FRAME_HEAD = struct.Struct(">IB")  # the sealed frame's length, its flags
KEY_BYTES = 32


class Damaged(ValueError):
    """The sealed bytes are not a whole, unchanged sealed object of this bucket and name."""


def key_purpose(bucket: str, name: str) -> str:
    """The associated data an object's key is wrapped with: it opens for that object alone."""
    return f"object:{bucket}/{name}"


def _frame_aad(bucket: str, name: str, index: int, last: bool) -> bytes:
    return json.dumps(["simtune.object", bucket, name, index, last]).encode()


def header(wrapped: bytes) -> bytes:
    if not 0 < len(wrapped) <= 0xFFFF:
        raise ValueError("a wrapped key is 1 to 65535 bytes")
    return MAGIC + WRAPPED.pack(len(wrapped)) + wrapped


def wrapped_key_of(head: bytes) -> bytes | None:
    """The wrapped key in the first bytes of a stored object (its first chunk: the sealer
    writes the header as a chunk of its own); None when the object was stored unsealed."""
    if not head.startswith(MAGIC):
        return None
    at = len(MAGIC) + WRAPPED.size
    if len(head) < at or len(head) < at + WRAPPED.unpack_from(head, len(MAGIC))[0]:
        raise Damaged("a sealed object's header is cut short")
    return head[at : at + WRAPPED.unpack_from(head, len(MAGIC))[0]]


class SealingReader(io.RawIOBase):
    """Reads as the sealed form of `source` (read from where it stands), sealing one frame
    at a time; `sha256` and `size` are the plaintext's, known once it was read whole.
    Blocking: file reads and encryption (which releases the GIL), for a worker thread."""

    def __init__(
        self,
        source: BinaryIO,
        key: bytes,
        wrapped: bytes,
        bucket: str,
        name: str,
        *,
        hashing: bool = True,
    ) -> None:
        super().__init__()
        self._source, self._aead = source, AESGCM(key)
        self._bucket, self._name = bucket, name
        self._out, self._at = header(wrapped), 0
        self._ahead: bytes | None = None
        self._index, self._done = 0, False
        self._digest = hashlib.sha256() if hashing else None
        self.size = 0

    @property
    def sha256(self) -> str:
        if self._digest is None or not self._done:
            raise ValueError("the plaintext was not hashed, or not read whole yet")
        return self._digest.hexdigest()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._at == len(self._out):
            if self._done:
                return 0
            self._seal_next()
        n = min(len(buffer), len(self._out) - self._at)
        buffer[:n] = memoryview(self._out)[self._at : self._at + n]
        self._at += n
        return n

    def _seal_next(self) -> None:
        plain = self._take() if self._ahead is None else self._ahead
        self._ahead = self._take() if len(plain) == FRAME else b""
        last = not self._ahead
        if self._digest is not None:
            self._digest.update(plain)
        self.size += len(plain)
        nonce = os.urandom(NONCE)
        aad = _frame_aad(self._bucket, self._name, self._index, last)
        sealed = self._aead.encrypt(nonce, plain, aad)
        self._out = FRAME_HEAD.pack(len(sealed), LAST if last else 0) + nonce + sealed
        self._at, self._index, self._done = 0, self._index + 1, last

    def _take(self) -> bytes:
        """The next frame's plaintext: `FRAME` bytes, fewer only at the end of the source."""
        parts, want = [], FRAME
        while want:
            block = self._source.read(want)
            if not block:
                break
            parts.append(block)
            want -= len(block)
        return b"".join(parts)


class OpeningWriter(io.RawIOBase):
    """Takes an object's stored bytes as they arrive and writes its plaintext to `sink`.

    `unwrap(wrapped)` gives the object's key K, or raises (the owner's key is gone, or this
    is not their object). A failure is kept, not raised, while bytes still arrive (the
    object store's reader would otherwise leave its subscription behind): `finish` raises
    it, or `Damaged` when the object ended before its last frame. Blocking: decryption and
    the sink's writes, for a worker thread."""

    def __init__(
        self, sink: BinaryIO, bucket: str, name: str, unwrap: Callable[[bytes], bytes]
    ) -> None:
        super().__init__()
        self._sink, self._bucket, self._name, self._unwrap = sink, bucket, name, unwrap
        self._buffer = bytearray()
        self._state = "magic"  # then "key", "frames", "done" (or "plain": stored unsealed)
        self._aead: AESGCM | None = None
        self._index = 0
        self.failure: BaseException | None = None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        n = len(data)
        if self.failure is not None:
            return n
        if self._state == "plain":
            self._sink.write(data)
            return n
        self._buffer += data
        try:
            self._advance()
        except Exception as exc:  # noqa: BLE001 - kept for `finish`, which raises it
            self.failure = exc
            self._buffer.clear()
        return n

    def finish(self) -> None:
        """The object was delivered whole: raise what went wrong, if anything did."""
        if self.failure is not None:
            raise self.failure
        if self._state == "magic":  # shorter than the magic: an object stored unsealed
            self._sink.write(bytes(self._buffer))
            self._buffer.clear()
        elif self._state not in ("plain", "done"):
            raise Damaged(f"{self._bucket}/{self._name} ends before its last frame")

    def _advance(self) -> None:
        buffer = self._buffer
        if self._state == "magic":
            if len(buffer) < len(MAGIC) and MAGIC.startswith(bytes(buffer)):
                return
            if not buffer.startswith(MAGIC):
                self._state = "plain"
                self._sink.write(bytes(buffer))
                buffer.clear()
                return
            del buffer[: len(MAGIC)]
            self._state = "key"
        if self._state == "key":
            if len(buffer) < WRAPPED.size:
                return
            (length,) = WRAPPED.unpack_from(buffer)
            if len(buffer) < WRAPPED.size + length:
                return
            wrapped = bytes(buffer[WRAPPED.size : WRAPPED.size + length])
            del buffer[: WRAPPED.size + length]
            key = self._unwrap(wrapped)
            if len(key) != KEY_BYTES:
                raise Damaged(f"{self._bucket}/{self._name} has a key of the wrong length")
            self._aead, self._state = AESGCM(key), "frames"
        while self._state == "frames" and len(buffer) >= FRAME_HEAD.size:
            length, flags = FRAME_HEAD.unpack_from(buffer)
            if not TAG <= length <= FRAME + TAG or flags not in (0, LAST):
                raise Damaged(f"{self._bucket}/{self._name} has a broken frame")
            end = FRAME_HEAD.size + NONCE + length
            if len(buffer) < end:
                return
            with memoryview(buffer) as view:  # one copy of the frame, not two
                nonce = bytes(view[FRAME_HEAD.size : FRAME_HEAD.size + NONCE])
                sealed = bytes(view[end - length : end])
            del buffer[:end]
            aad = _frame_aad(self._bucket, self._name, self._index, flags == LAST)
            try:
                plain = self._aead.decrypt(nonce, sealed, aad)
            except InvalidTag:
                raise Damaged(
                    f"{self._bucket}/{self._name}: frame {self._index} does not open"
                    " (changed, moved or from another object)"
                ) from None
            self._sink.write(plain)
            self._index += 1
            if flags == LAST:
                self._state = "done"
        if self._state == "done" and buffer:
            raise Damaged(f"{self._bucket}/{self._name} goes on after its last frame")
