"""F3: a truncated mp4 is never left under its final name (disk full, failing encoder)."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import envs.video as video
from envs.video import count_frames, write_video


def _frames(n=12, size=32):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(n)]


def test_f3_written_video_is_complete_and_no_tmp_left(tmp_path):
    path = write_video(tmp_path / "v.mp4", _frames(), goal=np.zeros((32, 32, 3), np.uint8))
    assert path == tmp_path / "v.mp4" and count_frames(path) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_f3_disk_full_leaves_no_truncated_mp4(tmp_path):
    """A file-size limit makes ffmpeg's writes fail like a full disk; ffmpeg does not report it when closing."""
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from envs.video import write_video
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited by ffmpeg: writes fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (12000, 12000))
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(30)]
        try:
            write_video({str(tmp_path / "v.mp4")!r}, frames)
        except OSError as exc:
            print("OSError:", exc)
            sys.exit(3)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, (out.stdout, out.stderr[-2000:])
    assert "could not be written completely" in out.stdout and "v.mp4" in out.stdout
    assert list(tmp_path.iterdir()) == [], "neither the final mp4 nor a tmp file may be left"


def test_f3_incomplete_video_is_deleted_and_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "count_frames", lambda path: 5)  # the decoder finds fewer frames than written
    with pytest.raises(OSError, match="5 of 12 frames"):
        write_video(tmp_path / "v.mp4", _frames())
    assert list(tmp_path.iterdir()) == []


def test_f3_encoder_failure_removes_tmp(tmp_path, monkeypatch):
    def broken(tmp, frames, fps, goal):
        tmp.write_bytes(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(video, "_encode", broken)
    with pytest.raises(OSError, match="No space"):
        write_video(tmp_path / "v.mp4", _frames())
    assert list(tmp_path.iterdir()) == []


def test_f3_existing_video_kept_when_rewrite_fails(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.mp4", _frames())
    monkeypatch.setattr(video, "count_frames", lambda p: 0)
    with pytest.raises(OSError):
        write_video(path, _frames())
    monkeypatch.undo()
    assert count_frames(path) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]

