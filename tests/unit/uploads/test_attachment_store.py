"""LocalAttachmentStore: random keys, fan-out folders, atomic writes, strict keys."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from aspirasi_core.services.ports import AttachmentStore
from aspirasi_core.storage.files import KEY_PATTERN, LocalAttachmentStore, validate_key

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def store(tmp_path: Path) -> LocalAttachmentStore:
    return LocalAttachmentStore(tmp_path / "attachments")


def all_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_satisfies_the_port(store: LocalAttachmentStore) -> None:
    port: AttachmentStore = store
    assert port.get(port.put(b"x", suffix=".pdf")) == b"x"


def test_round_trip(store: LocalAttachmentStore) -> None:
    data = bytes(range(256)) * 100
    key = store.put(data, suffix=".pdf")
    assert store.get(key) == data
    assert store.exists(key)


def test_keys_are_random_with_the_suffix(store: LocalAttachmentStore) -> None:
    keys = {store.put(b"a", suffix=".jpg") for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert KEY_PATTERN.fullmatch(key)
        assert key.endswith(".jpg")
        assert len(key) == 32 + 4


@pytest.mark.parametrize(("suffix", "ending"), [("pdf", ".pdf"), (".JPG", ".jpg"), ("", "")])
def test_suffix_is_normalised(store: LocalAttachmentStore, suffix: str, ending: str) -> None:
    key = store.put(b"a", suffix=suffix)
    assert key.endswith(ending) and KEY_PATTERN.fullmatch(key)


@pytest.mark.parametrize("suffix", ["./x", ".p/f", "../a", ".", ".toolongsuffix", ".p d f", ".ü"])
def test_bad_suffix_is_refused(store: LocalAttachmentStore, suffix: str) -> None:
    with pytest.raises(ValueError):
        store.put(b"a", suffix=suffix)
    assert all_files(store.root) == []


def test_files_fan_out_in_two_levels(store: LocalAttachmentStore) -> None:
    key = store.put(b"data", suffix=".pdf")
    store.promote(key)
    path = store.path_for(key)
    assert path == store.root / key[:2] / key[2:4] / key
    assert path.read_bytes() == b"data"
    assert path.parent.parent.parent == store.root


def test_empty_data_round_trips(store: LocalAttachmentStore) -> None:
    assert store.get(store.put(b"", suffix=".pdf")) == b""


def test_delete(store: LocalAttachmentStore) -> None:
    key = store.put(b"bye", suffix=".pdf")
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.get(key)


def test_delete_of_a_missing_key_is_a_no_op(store: LocalAttachmentStore) -> None:
    key = store.put(b"x", suffix=".pdf")
    store.delete(key)
    store.delete(key)
    store.delete("0" * 32 + ".pdf")


def test_get_of_a_missing_key_raises_file_not_found(store: LocalAttachmentStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.get("f" * 32 + ".jpg")


BAD_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    "",
    "ab/cd/" + "a" * 32,
    "a" * 32 + "/../../x",
    "a" * 31,
    "a" * 33,
    "A" * 32,  # upper-case hex is not a key we make
    "g" * 32,
    "a" * 32 + ".pdf\n",
    "a" * 32 + "\x00.pdf",
    "a" * 32 + ".p/f",
    "a" * 32 + "..pdf",
    "a" * 32 + ".",
    "..\\..\\windows\\win.ini",
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_malformed_keys_are_refused(store: LocalAttachmentStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.get(key)
    with pytest.raises(ValueError):
        store.delete(key)
    with pytest.raises(ValueError):
        store.path_for(key)


def test_non_string_key_is_refused() -> None:
    with pytest.raises(ValueError):
        validate_key(None)
    with pytest.raises(ValueError):
        validate_key(b"a" * 32)


def test_traversal_cannot_delete_outside_the_root(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    store = LocalAttachmentStore(tmp_path / "root")
    with pytest.raises(ValueError):
        store.delete("../victim.txt")
    assert victim.read_text() == "keep me"


@posix_only
def test_permissions(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # a typical permissive umask
    try:
        store = LocalAttachmentStore(tmp_path / "root")
        key = store.put(b"secret", suffix=".pdf")
        assert stat.S_IMODE(store.path_for(key).stat().st_mode) == 0o600  # pending
        assert stat.S_IMODE((store.root / "pending").stat().st_mode) == 0o700
        store.promote(key)
    finally:
        os.umask(old_umask)
    path = store.path_for(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700


@posix_only
def test_symlinked_file_is_not_followed(store: LocalAttachmentStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not an attachment")
    key = store.put(b"x", suffix=".pdf")
    path = store.path_for(key)
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(OSError):
        store.get(key)


def test_atomic_write_leaves_no_temp_files(store: LocalAttachmentStore) -> None:
    keys = [store.put(os.urandom(1000), suffix=".jpg") for _ in range(20)]
    files = all_files(store.root)
    assert sorted(p.name for p in files) == sorted(keys)
    assert not [p for p in store.root.rglob(".tmp-*")]


def test_failed_write_leaves_nothing_behind(
    store: LocalAttachmentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"half", suffix=".pdf")
    assert all_files(store.root) == []


def test_write_goes_through_a_temp_file_then_replace(
    store: LocalAttachmentStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, bytes]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((os.path.basename(src), os.path.basename(dst), Path(src).read_bytes()))
        assert not Path(dst).exists()  # the final name appears only at the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    key = store.put(b"complete", suffix=".pdf")
    ((tmp_name, final_name, content),) = seen
    assert tmp_name.startswith(".tmp-") and final_name == key
    assert content == b"complete"  # fully written before the rename


def test_concurrent_puts(store: LocalAttachmentStore) -> None:
    results: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        key = store.put(bytes([n]) * 100, suffix=".pdf")
        with lock:
            results.append(key)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 16
    assert sorted(store.get(k)[0] for k in results) == list(range(16))


def test_root_given_as_a_string_is_created(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    store = LocalAttachmentStore(str(root))
    assert root.is_dir()
    assert store.get(store.put(b"ok", suffix=".pdf")) == b"ok"


def test_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(ValueError):
        LocalAttachmentStore(file)


# --------------------------------------------------------------------------- pending files


def _age(path: Path, seconds: float) -> None:
    """Make a file look ``seconds`` old, as if that much time had passed."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_new_file_is_pending_and_readable_until_promoted(store: LocalAttachmentStore) -> None:
    key = store.put(b"upload", suffix=".pdf")
    assert store.path_for(key) == store.root / "pending" / key
    assert store.get(key) == b"upload" and store.exists(key)
    store.promote(key)
    assert store.path_for(key) == store.root / key[:2] / key[2:4] / key
    assert store.get(key) == b"upload"
    assert list((store.root / "pending").iterdir()) == []
    store.promote(key)  # idempotent
    assert store.get(key) == b"upload"


def test_delete_removes_a_pending_file(store: LocalAttachmentStore) -> None:
    key = store.put(b"upload", suffix=".pdf")
    store.delete(key)
    assert not store.exists(key)
    assert all_files(store.root) == []


def test_the_sweep_settles_old_pending_files_only(store: LocalAttachmentStore) -> None:
    committed = store.put(b"row committed, then killed", suffix=".pdf")
    orphan = store.put(b"killed before the commit", suffix=".jpg")
    fresh = store.put(b"a request still running", suffix=".pdf")
    promoted = store.put(b"a normal upload", suffix=".pdf")
    store.promote(promoted)
    stale_tmp = store.root / "pending" / ".tmp-abandoned"
    stale_tmp.write_bytes(b"half")
    for path in (store.path_for(committed), store.path_for(orphan), stale_tmp):
        _age(path, 2 * 3600)
    _age(store.path_for(promoted), 2 * 3600)
    asked: list[list[str]] = []

    def referenced(keys: list[str]) -> set[str]:
        asked.append(sorted(keys))
        return {k for k in keys if k in (committed, promoted)}

    assert store.sweep_pending(referenced) == (1, 2)
    assert asked == [sorted([committed, orphan])]  # young and promoted files are not asked
    assert store.path_for(committed).parent != store.root / "pending"
    assert store.get(committed) == b"row committed, then killed"
    assert not store.exists(orphan) and not stale_tmp.exists()
    assert store.get(fresh) == b"a request still running"
    assert store.get(promoted) == b"a normal upload"
    assert store.sweep_pending(referenced) == (0, 0)


def test_check_reports_free_space_and_leaves_nothing(store: LocalAttachmentStore) -> None:
    detail = store.check()
    assert detail["free_mb"] > 0
    assert all_files(store.root) == []
