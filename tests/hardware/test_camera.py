"""Camera frame checks and preprocessing (centre crop, resize); bad frames are errors, never silently fixed."""

import numpy as np
import pytest

from hardware.camera import MIN_FRAME_SIDE, CameraError, FakeCamera, check_frame, preprocess


def test_preprocess_centre_crop_resize():
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, 50:150] = 255  # the centre square is white
    out = preprocess(img, 32)
    assert out.shape == (32, 32, 3) and out.min() == 255


@pytest.mark.parametrize("frame", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((1, 1, 3), np.uint8),
                                   np.zeros((10, 10, 3), np.uint8), np.zeros((480, 20, 3), np.uint8)],
                         ids=["None", "0x0", "1x1", "10x10", "20x480"])
def test_f16_empty_and_tiny_frames_are_rejected_not_resized(frame):
    with pytest.raises(ValueError, match="None|smaller than"):
        preprocess(frame, 64)


@pytest.mark.parametrize("frame, what", [
    (np.full((64, 64, 3), 0.5), "float64"), (np.zeros((64, 64), np.uint8), "uint8 \\(H, W, 3\\)"),
    (np.zeros((64, 64, 4), np.uint8), "uint8 \\(H, W, 3\\)"), (np.zeros((64, 64, 3), np.uint16), "uint16"),
], ids=["float", "gray", "rgba", "uint16"])
def test_bad_frame_dtypes_and_channels_are_rejected_not_cast(frame, what):
    with pytest.raises(ValueError, match=what):
        preprocess(frame, 64)


def test_smallest_accepted_frame():
    assert check_frame(np.zeros((MIN_FRAME_SIDE, MIN_FRAME_SIDE, 3), np.uint8)).shape == (32, 32, 3)


def test_f16_fake_camera_none_is_a_dropped_frame_and_float_is_not_cast():
    with pytest.raises(CameraError, match="dropped 4 frames"):
        FakeCamera(lambda: None).read()
    frame = FakeCamera(lambda: np.full((64, 64, 3), 0.7)).read()
    assert frame.dtype == np.float64  # passed on unchanged; preprocess rejects it
