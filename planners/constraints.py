"""Apply :class:`planners.base.ActionBounds` to sampled action sequences (pure tensor functions)."""

from __future__ import annotations

import math

import torch

from planners.base import ActionBounds


def bound_tensors(bounds: ActionBounds, action_dim: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high) as float tensors of shape (action_dim,); raises if lengths disagree or low > high."""
    low = torch.as_tensor(list(bounds.low), dtype=torch.float32, device=device)
    high = torch.as_tensor(list(bounds.high), dtype=torch.float32, device=device)
    if low.shape != (action_dim,) or high.shape != (action_dim,):
        raise ValueError(f"bounds must have length {action_dim}, got low {tuple(low.shape)} high {tuple(high.shape)}")
    if not (torch.isfinite(low).all() and torch.isfinite(high).all()):
        raise ValueError(f"bounds must be finite, got low {low.tolist()} high {high.tolist()}")
    if bounds.maxnorm is not None and not (bounds.maxnorm[1] > 0 and bounds.maxnorm[1] < float("inf")):
        raise ValueError(f"maxnorm must be a finite positive norm, got {bounds.maxnorm[1]!r}")
    if torch.any(low > high):
        raise ValueError(f"bounds low > high at dims {torch.nonzero(low > high).flatten().tolist()}")
    for dim in bounds.fixed:
        if not 0 <= dim < action_dim:
            raise ValueError(f"fixed dim {dim} outside 0..{action_dim - 1}")
    for dim, width in bounds.deadband.items():
        if not 0 <= dim < action_dim:
            raise ValueError(f"deadband dim {dim} outside 0..{action_dim - 1}")
        reach = max(abs(float(low[dim])), abs(float(high[dim])))
        if not (isinstance(width, (int, float)) and 0 <= width < reach):
            raise ValueError(f"deadband width of dim {dim} must be a number in [0, {reach}) (the dim's largest "
                             f"|bound|), got {width!r}")
    for dim, levels in bounds.levels.items():
        _check_levels(dim, levels, low, high)
    return low, high


def _check_levels(dim: int, levels: object, low: torch.Tensor, high: torch.Tensor) -> None:
    """ValueError unless ``levels`` is an ascending sequence of finite numbers inside dim ``dim``'s bounds."""
    if not 0 <= dim < len(low):
        raise ValueError(f"levels dim {dim} outside 0..{len(low) - 1}")
    values = list(levels) if isinstance(levels, (list, tuple)) else None
    if (not values or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            or not all(math.isfinite(v) for v in values)):
        raise ValueError(f"levels of dim {dim} must be a non-empty sequence of finite numbers, got {levels!r}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"levels of dim {dim} must be strictly ascending, got {values}")
    lo, hi = float(low[dim]), float(high[dim])
    if values[0] < lo or values[-1] > hi:
        raise ValueError(f"levels of dim {dim} must lie in its bounds [{lo}, {hi}], got {values}")


def snap_to_levels(values: torch.Tensor, levels: tuple[float, ...]) -> torch.Tensor:
    """Each entry of ``values`` replaced by the nearest of ``levels`` (ascending; a tie goes to the lower one)."""
    grid = torch.as_tensor(levels, dtype=values.dtype, device=values.device)
    return grid[(values[..., None] - grid).abs().argmin(dim=-1)]


def apply_bounds(actions: torch.Tensor, bounds: ActionBounds) -> torch.Tensor:
    """Project actions (..., action_dim) onto the constraint set: maxnorm, box clip, deadband, levels, then fixed
    dims.

    The maxnorm rescales ``actions[..., dims]`` so its L2 norm is at most ``max_norm`` (the paper clips
    |dxyz| to 0.05 m); the box clip keeps every dim in [low, high]; deadband dims below their width become 0;
    levels dims snap to their nearest level; fixed dims are overwritten.
    """
    low, high = bound_tensors(bounds, actions.shape[-1], actions.device)
    out = actions
    if bounds.maxnorm is not None:
        dims, max_norm = bounds.maxnorm
        idx = list(dims)
        sub = out[..., idx]
        norm = sub.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        scale = torch.clamp(max_norm / norm, max=1.0)
        out = out.clone()
        out[..., idx] = sub * scale
    out = torch.maximum(torch.minimum(out, high), low)
    if bounds.deadband:
        out = out.clone()
        for dim, width in bounds.deadband.items():
            out[..., dim] = torch.where(out[..., dim].abs() < width, 0.0, out[..., dim])
    if bounds.levels:
        out = out.clone()
        for dim, levels in bounds.levels.items():
            out[..., dim] = snap_to_levels(out[..., dim], tuple(levels))
    if bounds.fixed:
        out = out.clone()
        for dim, value in bounds.fixed.items():
            out[..., dim] = value
    return out


def evaluate(cost_fn, actions: torch.Tensor) -> torch.Tensor:
    """Call ``cost_fn`` and check it returns finite-or-inf costs of shape (batch, samples)."""
    if not torch.isfinite(actions).all():
        raise ValueError("planner produced non-finite action samples (check init_std, bounds and warm start)")
    costs = cost_fn(actions)
    if not isinstance(costs, torch.Tensor):
        raise TypeError(f"cost_fn must return a torch.Tensor, got {type(costs).__name__}")
    if costs.shape != actions.shape[:2]:
        raise ValueError(
            f"cost_fn returned shape {tuple(costs.shape)}, expected (batch, samples) = {tuple(actions.shape[:2])}"
        )
    nan = torch.isnan(costs)
    if nan.any():
        raise ValueError(
            f"cost_fn returned NaN costs for {int(nan.sum())} of {nan.numel()} action sequences (the actions were "
            f"finite: the cost function itself produced NaN, e.g. a world model with non-finite weights or an "
            f"out-of-range state/goal)"
        )
    return costs.float()
