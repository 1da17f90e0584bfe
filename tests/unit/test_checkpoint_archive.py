"""A checkpoint is archived whole or not at all: the training process keeps only its newest
checkpoints and may delete one while a loaded machine is still archiving it; that one is
skipped (the next is kept), instead of failing the run."""

import io
import tarfile

from services.trainer.local.workdir import WorkDir


def test_a_whole_checkpoint_is_archived_with_every_file(tmp_path):
    folder = tmp_path / "checkpoint-12"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"weights")
    (folder / "rng_state.pth").write_bytes(b"state")

    archive = WorkDir.pack_if_whole(folder)

    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = sorted(tar.getnames())
    assert names == ["checkpoint-12", "checkpoint-12/adapter_model.safetensors",
                     "checkpoint-12/rng_state.pth"]  # fmt: skip


def test_a_checkpoint_deleted_while_archived_is_skipped(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoint-12"
    folder.mkdir()
    (folder / "rng_state.pth").write_bytes(b"state")
    real_info = tarfile.TarFile.gettarinfo

    def info_after_rotation(self, name=None, *args, **kwargs):
        if str(name).endswith("rng_state.pth"):  # listed, then rotated away before it is read
            (folder / "rng_state.pth").unlink()
        return real_info(self, name, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "gettarinfo", info_after_rotation)

    assert WorkDir.pack_if_whole(folder) is None
