"""Cameras for the real robot: OpenCV, RealSense and a fake (rendered-frame) camera, two cameras side by side as
one (a wrist camera beside a fixed one), plus preprocessing.

All cameras return RGB uint8 (H, W, 3). ``preprocess`` does what the paper does to DROID frames: centre crop
to a square, then resize to the model's input size.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol, Sequence

import cv2
import numpy as np

from agent.observation import centre_crop_square, crop_to_shape  # the agent's crops of non-square images


class CameraError(RuntimeError):
    """The camera failed to deliver a frame after the allowed retries."""


class Camera(Protocol):
    def read(self) -> np.ndarray:
        """RGB uint8 (H, W, 3)."""
    def close(self) -> None: ...


MIN_FRAME_SIDE = 32  # px: a smaller frame means a misconfigured camera, not something to upscale


def check_frame(image: object) -> np.ndarray:
    """``image`` as an RGB uint8 (H, W, 3) array with H, W >= MIN_FRAME_SIDE, or ValueError naming the problem
    (no silent cast of float/other dtypes, no upscaling of tiny or empty frames)."""
    if image is None:
        raise ValueError("camera returned no frame (None)")
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) frame, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < MIN_FRAME_SIDE:
        raise ValueError(f"frame {image.shape[1]}x{image.shape[0]} px is smaller than {MIN_FRAME_SIDE} px per side")
    return image


def preprocess(image: np.ndarray, size: int) -> np.ndarray:
    """Check the frame (:func:`check_frame`), centre crop it to a square, then resize (area interpolation) to
    (size, size, 3) uint8."""
    square = centre_crop_square(check_frame(image))
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA)


def read_with_retries(grab: Callable[[], np.ndarray | None], retries: int = 3, wait_s: float = 0.02) -> np.ndarray:
    """Call ``grab`` until it returns a frame; CameraError after ``retries`` dropped frames."""
    for attempt in range(retries + 1):
        frame = grab()
        if frame is not None:
            return frame
        time.sleep(wait_s)
    raise CameraError(f"camera dropped {retries + 1} frames in a row")


class OpenCVCamera:
    def __init__(self, index: int | str = 0, retries: int = 3) -> None:
        self.cap = cv2.VideoCapture(index)
        if not self.cap.isOpened():
            raise CameraError(f"cannot open OpenCV camera {index!r}")
        self.retries = retries

    def _grab(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok and frame is not None else None

    def read(self) -> np.ndarray:
        return read_with_retries(self._grab, self.retries)

    def close(self) -> None:
        self.cap.release()


class RealSenseCamera:
    def __init__(self, width: int = 640, height: int = 480, fps: int = 30, serial: str | None = None,
                 retries: int = 3) -> None:
        try:
            import pyrealsense2 as rs
        except ImportError as exc:
            raise ImportError("RealSense support needs pyrealsense2: pip install 'vjepa2-ac-sim[realsense]'") from exc
        self.rs = rs
        self.pipeline = rs.pipeline()
        config = rs.config()
        if serial:
            config.enable_device(serial)
        config.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
        self.pipeline.start(config)
        self.retries = retries

    def _grab(self) -> np.ndarray | None:
        frames = self.pipeline.poll_for_frames()
        color = frames.get_color_frame() if frames else None
        return np.asanyarray(color.get_data()).copy() if color else None

    def read(self) -> np.ndarray:
        return read_with_retries(self._grab, self.retries, wait_s=0.05)

    def close(self) -> None:
        self.pipeline.stop()


class FakeCamera:
    """Frames from a callable (e.g. a rendered sim image); ``drop`` makes the next N reads fail (fault tests).

    The source's frames are passed on unchanged (no dtype cast: :func:`preprocess` rejects non-uint8 frames);
    a source returning None counts as a dropped frame."""

    def __init__(self, source: Callable[[], np.ndarray], retries: int = 3) -> None:
        self.source = source
        self.retries = retries
        self.drop = 0

    def _grab(self) -> np.ndarray | None:
        if self.drop > 0:
            self.drop -= 1
            return None
        frame = self.source()
        return None if frame is None else np.asarray(frame)

    def read(self) -> np.ndarray:
        return read_with_retries(self._grab, self.retries, wait_s=0.0)

    def close(self) -> None:
        pass


class SideBySideCamera:
    """Cameras read as one frame, for a model trained on a camera preset with a second view beside the first
    (``envs.scene`` ``workspace_wrist``: the workspace camera, and a camera on the hand to its right).

    ``widths``: each pane's width in px at the model's image size (``CameraPreset.panes``: 64 and 32 at 96 px).
    Each camera's frame is checked, centre-cropped to its pane's shape, resized into its pane at ``scale`` times
    those sizes, and the panes are joined left to right: a square (``scale`` * sum(widths)) frame whose pane
    boundary lands on the same column as in simulation once resized to the model's size."""

    def __init__(self, cameras: Sequence[Camera], widths: Sequence[int], scale: int = 5) -> None:
        if len(cameras) != len(widths) or len(cameras) < 2:
            raise ValueError(f"need one pane width per camera and at least two cameras, got {len(cameras)} "
                             f"cameras and widths {list(widths)}")
        if any(int(w) < 1 for w in widths) or scale < 1:
            raise ValueError(f"pane widths and scale must be positive, got {list(widths)} and {scale}")
        self.cameras = list(cameras)
        self.side = scale * int(sum(widths))
        self.widths = [scale * int(w) for w in widths]

    def read(self) -> np.ndarray:
        panes = []
        for camera, width in zip(self.cameras, self.widths):
            frame = crop_to_shape(check_frame(camera.read()), self.side, width)
            panes.append(cv2.resize(frame, (width, self.side), interpolation=cv2.INTER_AREA))
        return np.concatenate(panes, axis=1)

    def close(self) -> None:
        errors = []
        for camera in self.cameras:  # every camera is closed, even when one fails
            try:
                camera.close()
            except Exception as exc:  # noqa: BLE001 - re-raised below once all are closed
                errors.append(exc)
        if errors:
            raise errors[0]
