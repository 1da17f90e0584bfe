"""The sealed form of an object (`runtime.sealed_objects`): it round-trips, big or empty, in
the blocks the object store reads and delivers; a changed, moved, dropped or cut frame, or
another object's name, does not open; an object stored before sealing reads as it was."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.sealed_objects import (
    FRAME,
    FRAME_HEAD,
    MAGIC,
    NONCE,
    TAG,
    WRAPPED,
    Damaged,
    OpeningWriter,
    SealingReader,
)

BUCKET, NAME = "documents", "alice/e1/original"
STORE_BLOCK = 128 * 1024  # what the object store reads and delivers at a time
WRAPPING = AESGCM(AESGCM.generate_key(256))  # stands in for the owner's data key


def wrap(key: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + WRAPPING.encrypt(nonce, key, b"wrapped")


def unwrap(wrapped: bytes) -> bytes:
    return WRAPPING.decrypt(wrapped[:NONCE], wrapped[NONCE:], b"wrapped")


def seal(plain: bytes, bucket: str = BUCKET, name: str = NAME) -> tuple[bytes, SealingReader]:
    key = AESGCM.generate_key(256)
    reader = SealingReader(io.BytesIO(plain), key, wrap(key), bucket, name)
    out, block = io.BytesIO(), bytearray(STORE_BLOCK)
    while n := reader.readinto(block):
        out.write(block[:n])
    return out.getvalue(), reader


def opened(stored: bytes, bucket: str = BUCKET, name: str = NAME, block: int = STORE_BLOCK):
    sink = io.BytesIO()
    writer = OpeningWriter(sink, bucket, name, unwrap)
    for at in range(0, len(stored), block):
        writer.write(stored[at : at + block])
    writer.finish()
    return sink.getvalue()


def frames(stored: bytes) -> tuple[bytes, list[bytes]]:
    """The sealed object cut into its header and its frames (each whole, head included)."""
    (length,) = WRAPPED.unpack_from(stored, len(MAGIC))
    at = len(MAGIC) + WRAPPED.size + length
    head, parts = stored[:at], []
    while at < len(stored):
        size, _ = FRAME_HEAD.unpack_from(stored, at)
        end = at + FRAME_HEAD.size + NONCE + size
        parts.append(stored[at:end])
        at = end
    return head, parts


@pytest.mark.parametrize("size", [0, 1, 7, 100, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME + 12345])
def test_an_object_round_trips_whatever_its_size(size):
    plain = os.urandom(size)
    stored, reader = seal(plain)
    assert stored.startswith(MAGIC)
    assert opened(stored) == plain
    assert reader.sha256 == hashlib.sha256(plain).hexdigest() and reader.size == size
    assert len(frames(stored)[1]) == max(1, -(-size // FRAME))


def test_a_big_object_streams_in_any_blocks_and_holds_no_plaintext():
    phrase = b"the distinctive phrase of a private document. "
    plain = phrase * (5 * FRAME // len(phrase))  # five frames and more
    stored, _ = seal(plain)
    assert phrase not in stored and b"distinctive" not in stored
    for block in (1000, 65_536, FRAME + 3):
        assert opened(stored, block=block) == plain


def test_a_flipped_byte_anywhere_in_a_frame_is_refused():
    stored, _ = seal(os.urandom(2 * FRAME + 10))
    head, parts = frames(stored)
    for at in (len(head) + FRAME_HEAD.size + 3, len(head) + len(parts[0]) + 40, len(stored) - 1):
        damaged = bytearray(stored)
        damaged[at] ^= 0x01
        with pytest.raises(Damaged):
            opened(bytes(damaged))


def test_frames_reordered_dropped_or_cut_short_are_refused():
    stored, _ = seal(os.urandom(3 * FRAME + 10))
    head, parts = frames(stored)
    for broken in (
        head + parts[1] + parts[0] + parts[2] + parts[3],  # reordered
        head + parts[0] + parts[2] + parts[3],  # one dropped
        head + parts[0] + parts[1] + parts[2],  # the last dropped: it ends too soon
        head + parts[0] + parts[1] + parts[2] + parts[3][:-5],  # cut inside the last frame
        stored + parts[3],  # something after the last frame
    ):
        with pytest.raises(Damaged):
            opened(broken)


def test_a_last_flag_set_on_an_earlier_frame_does_not_open():
    stored, _ = seal(os.urandom(FRAME + 10))
    head, parts = frames(stored)
    first = bytearray(parts[0])
    first[4] = 1  # claims to be the last, so a reader would stop there
    with pytest.raises(Damaged):
        opened(head + bytes(first))


def test_an_object_does_not_open_under_another_name_or_bucket():
    stored, _ = seal(b"alice's notes" * 100)
    with pytest.raises(Damaged):
        opened(stored, name="alice/e1/other")
    with pytest.raises(Damaged):
        opened(stored, bucket="datasets")


def test_another_objects_frames_do_not_open_under_this_ones_key():
    one, _ = seal(b"one" * 1000)
    two, _ = seal(b"two" * 1000)
    head, _ = frames(one)
    with pytest.raises(Damaged):
        opened(head + frames(two)[1][0])


@pytest.mark.parametrize("plain", [b"", b"%PDF", b"SIMOBJ", b"plain text stored long ago" * 9])
def test_an_object_stored_before_sealing_reads_as_it_was(plain):
    assert opened(plain, block=3) == plain


def test_a_failure_to_open_the_key_is_kept_until_the_end():
    """The object store's reader goes on delivering: the writer takes it all, then says."""
    stored, _ = seal(os.urandom(2 * FRAME))

    def forgotten(wrapped: bytes) -> bytes:
        raise LookupError("the owner's key was destroyed")

    sink = io.BytesIO()
    writer = OpeningWriter(sink, BUCKET, NAME, forgotten)
    for at in range(0, len(stored), STORE_BLOCK):
        assert writer.write(stored[at : at + STORE_BLOCK]) == len(stored[at : at + STORE_BLOCK])
    with pytest.raises(LookupError):
        writer.finish()
    assert sink.getvalue() == b""


def test_each_frame_costs_only_its_head_nonce_and_tag():
    plain = os.urandom(2 * FRAME + 1)
    stored, _ = seal(plain)
    head, parts = frames(stored)
    assert len(stored) - len(head) - len(plain) == len(parts) * (FRAME_HEAD.size + NONCE + TAG)
