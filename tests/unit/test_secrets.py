import os
import stat
import threading

import pytest
from cryptography.fernet import Fernet

from runtime.secrets import SecretBox, SecretUnreadable

API_KEY = "sk-test-0123456789abcdef"


def test_the_key_file_is_created_private_on_first_use_and_reused(tmp_path):
    home = tmp_path / "home"
    first = SecretBox.open(home, None)
    key_file = home / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = SecretBox.open(home, None)
    assert again.key_id == first.key_id
    assert again.unseal(first.seal(API_KEY)) == API_KEY
    assert [p.name for p in home.iterdir()] == ["secret.key"]


def test_sealed_text_is_ascii_and_does_not_contain_the_secret(tmp_path):
    token = SecretBox.open(tmp_path, None).seal(API_KEY)
    assert token.isascii() and API_KEY not in token and "0123456789" not in token


def test_a_secret_sealed_with_another_key_is_unreadable(tmp_path):
    token = SecretBox.open(tmp_path / "a", None).seal(API_KEY)
    other = SecretBox.open(tmp_path / "b", None)
    with pytest.raises(SecretUnreadable, match="enter it again"):
        other.unseal(token)
    with pytest.raises(SecretUnreadable):
        other.unseal("not a token ✗")


def test_the_environment_key_is_used_instead_of_a_file(tmp_path):
    key = Fernet.generate_key().decode()
    box = SecretBox.open(tmp_path, key)
    assert not (tmp_path / "secret.key").exists()
    assert Fernet(key.encode()).decrypt(box.seal(API_KEY).encode()).decode() == API_KEY
    assert SecretBox.open(tmp_path, key).key_id == box.key_id
    assert SecretBox.open(tmp_path, Fernet.generate_key().decode()).key_id != box.key_id


def test_an_empty_environment_key_counts_as_unset(tmp_path):
    SecretBox.open(tmp_path, "")
    assert (tmp_path / "secret.key").exists()


def test_an_invalid_environment_key_names_the_variable(tmp_path):
    with pytest.raises(ValueError, match="SIMTUNE_SECRET_KEY") as raised:
        SecretBox.open(tmp_path, "not-a-key")
    assert "not-a-key" not in str(raised.value)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620])
def test_a_key_file_open_to_other_users_is_refused(tmp_path, mode):
    SecretBox.open(tmp_path, None)
    key_file = tmp_path / "secret.key"
    key_file.chmod(mode)
    with pytest.raises(PermissionError, match="chmod 600"):
        SecretBox.open(tmp_path, None)


def test_a_damaged_key_file_is_reported_not_replaced(tmp_path):
    key_file = tmp_path / "secret.key"
    key_file.write_bytes(b"garbage")
    key_file.chmod(0o600)
    with pytest.raises(ValueError, match="valid key"):
        SecretBox.open(tmp_path, None)
    assert key_file.read_bytes() == b"garbage"


def test_processes_starting_together_agree_on_one_key(tmp_path):
    ids: list[str] = []
    start = threading.Barrier(8)

    def open_box():
        start.wait()
        ids.append(SecretBox.open(tmp_path, None).key_id)

    threads = [threading.Thread(target=open_box) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_the_box_never_shows_its_key(tmp_path):
    key = Fernet.generate_key().decode()
    box = SecretBox.open(tmp_path, key)
    assert key not in repr(box) and box.key_id in repr(box)
    assert len(box.key_id) == 12
