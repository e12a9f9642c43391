import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from envs.conventions import integrate_action
from training.droid import read_droid_clip, read_states, write_droid_sample


def test_droid_clip_conventions(tmp_path):
    root = write_droid_sample(tmp_path / "traj", steps=40)
    raw = read_states(root)
    assert raw.shape == (40, 7)
    clip = read_droid_clip(root, frames=8, fps=4.0, start=2)
    np.testing.assert_array_equal(clip.indices, 2 + 4 * np.arange(8))  # 15 Hz -> every 4th step
    assert clip.frames.shape[0] == 8 and clip.frames.dtype == np.uint8
    np.testing.assert_allclose(clip.states, raw[clip.indices].astype(np.float32))
    assert clip.actions.shape == (7, 7)
    for t in range(7):  # actions are exact pose deltas: integrating them reproduces the next state
        nxt = integrate_action(clip.states[t], clip.actions[t])
        np.testing.assert_allclose(nxt[:3], clip.states[t + 1][:3], atol=1e-5)
        np.testing.assert_allclose(nxt[6], clip.states[t + 1][6], atol=1e-5)
        r_pred = Rotation.from_euler("xyz", nxt[3:6]).as_matrix()
        r_true = Rotation.from_euler("xyz", clip.states[t + 1][3:6]).as_matrix()
        np.testing.assert_allclose(r_pred, r_true, atol=1e-5)


def test_droid_clip_too_long(tmp_path):
    root = write_droid_sample(tmp_path / "traj", steps=20)
    with pytest.raises(ValueError, match="too few"):
        read_droid_clip(root, frames=8)
