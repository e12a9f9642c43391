"""An evaluation episode's mp4 (observation | goal image, as `vjepa-eval video=true` writes it) as an animated GIF
for the README, pixels enlarged by an integer factor without smoothing (96 px frames stay sharp).

    python3 scripts/mp4_to_gif.py outputs/eval/.../videos/FrankaGrasp-v0_seed1000.mp4 docs/img/grasp.gif --scale 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
from PIL import Image


def read_frames(path: Path) -> list[np.ndarray]:
    """The video's frames, uint8 (H, W, 3)."""
    with imageio.get_reader(path, format="FFMPEG") as reader:
        return [np.asarray(frame) for frame in reader]


def write_gif(frames: list[np.ndarray], out: Path, scale: int, fps: float, hold_last_s: float,
              colors: int = 64) -> Path:
    """Frames in one palette of ``colors`` colours, enlarged ``scale`` x (nearest neighbour), at ``fps``, the last
    one held ``hold_last_s`` seconds."""
    if not frames:
        raise ValueError("the video has no frames")
    sheet = Image.fromarray(np.concatenate(frames, axis=0))  # one palette for all frames: no flicker
    palette = sheet.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
              .resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in frames]
    durations = [round(1000 / fps)] * len(images)
    durations[-1] += round(1000 * hold_last_s)
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("gif", type=Path)
    parser.add_argument("--scale", type=int, default=2, help="integer enlargement (default 2)")
    parser.add_argument("--fps", type=float, default=4.0, help="frames per second (the envs' control rate: 4)")
    parser.add_argument("--hold", type=float, default=1.5, help="seconds the last frame stays (default 1.5)")
    parser.add_argument("--colors", type=int, default=64, help="palette size, 2-256 (default 64)")
    args = parser.parse_args()
    if args.scale < 1 or args.fps <= 0 or args.hold < 0 or not 2 <= args.colors <= 256:
        parser.error("--scale must be >= 1, --fps > 0, --hold >= 0 and --colors 2-256")
    out = write_gif(read_frames(args.video), args.gif, args.scale, args.fps, args.hold, args.colors)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
