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


def test_crop_to_shape_keeps_the_centre_with_the_asked_aspect():
    from hardware.camera import crop_to_shape

    img = np.arange(100 * 200).reshape(100, 200, 1).repeat(3, axis=2).astype(np.uint8)
    tall = crop_to_shape(img, 96, 32)  # 1:3 wide from a 2:1 frame: columns cropped
    assert tall.shape == (100, 33, 3) and np.array_equal(tall, img[:, 83:116])
    wide = crop_to_shape(img, 10, 40)  # 4:1 from 2:1: rows cropped
    assert wide.shape == (50, 200, 3) and np.array_equal(wide, img[25:75])


def test_side_by_side_camera_joins_the_panes_where_the_sim_does():
    """Two cameras as one frame: each fills its pane (centre-cropped to the pane's shape), and the boundary falls on
    the pane boundary of the sim preset once resized to the model's size (64 | 32 at 96 px)."""
    from hardware.camera import SideBySideCamera

    left = FakeCamera(lambda: np.full((480, 640, 3), 200, np.uint8))
    right = FakeCamera(lambda: np.full((480, 640, 3), 20, np.uint8))
    joined = SideBySideCamera([left, right], [64, 32], scale=5).read()
    assert joined.shape == (480, 480, 3)
    assert (joined[:, :320] == 200).all() and (joined[:, 320:] == 20).all()
    small = preprocess(joined, 96)
    assert (small[:, :64] == 200).all() and (small[:, 64:] == 20).all()


def test_side_by_side_camera_refuses_bad_frames_and_closes_every_camera():
    from hardware.camera import SideBySideCamera

    closed = []

    class Closing(FakeCamera):
        def close(self):
            closed.append(self)
            raise RuntimeError("usb gone")

    good = Closing(lambda: np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="float64"):
        SideBySideCamera([good, FakeCamera(lambda: np.zeros((48, 64, 3)))], [2, 1]).read()
    with pytest.raises(ValueError, match="one pane width per camera"):
        SideBySideCamera([good], [1])
    pair = SideBySideCamera([good, Closing(lambda: np.zeros((48, 64, 3), np.uint8))], [2, 1])
    with pytest.raises(RuntimeError, match="usb gone"):
        pair.close()
    assert len(closed) == 2
