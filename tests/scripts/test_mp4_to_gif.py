"""scripts/mp4_to_gif.py: an evaluation video becomes a sharp, looping GIF of the same frames."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from envs.video import write_video

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mp4_to_gif.py"


def _load():
    spec = importlib.util.spec_from_file_location("mp4_to_gif", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_video_becomes_an_enlarged_gif_with_every_frame(tmp_path):
    frames = [np.full((16, 16, 3), 40 * i, np.uint8) for i in range(5)]  # grey levels: exact in any palette
    video = write_video(tmp_path / "ep.mp4", frames, goal=np.zeros((16, 16, 3), np.uint8))
    gif = _load().write_gif(_load().read_frames(video), tmp_path / "ep.gif", scale=3, fps=4.0, hold_last_s=1.0)
    with Image.open(gif) as im:
        assert im.size == (3 * (16 + 4 + 16), 3 * 16) and im.n_frames == 5
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        im.seek(2)
        left = np.asarray(im.convert("RGB"))[:, :48]
    assert durations[:4] == [250] * 4 and durations[4] == 1250
    assert abs(float(left.mean()) - 80) < 6  # frame 2's grey, after the video codec


def test_bad_arguments_are_refused(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "x.mp4"), str(tmp_path / "x.gif"),
                             "--scale", "0"], capture_output=True, text=True)
    assert result.returncode != 0 and "--scale must be >= 1" in result.stderr
