"""Checking and resolving `fit`'s options: which parameters, which optimiser phases, which
restarts. Concrete work before anything is traced; every problem is a `ValueError`."""

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._transforms import AbstractTransform, default_transform

#: The default optimiser, one object so that repeated fits reuse the compiled program.
DEFAULT_OPTIMIZER = optax.adam(1e-2)

#: Default optimiser steps per compiled call: Ctrl-C takes effect between two such chunks.
DEFAULT_CHUNK_SIZE: int = 50


def resolve_params(model, params) -> tuple[tuple[str, ...], tuple[AbstractTransform, ...]]:
    """(names, transforms) of the parameters to learn; the default transform of each comes
    from the model's `param_domains` (`default_transform`)."""
    if isinstance(params, str):
        params = (params,)
    if isinstance(params, Mapping):
        items = list(params.items())
    elif isinstance(params, Sequence):
        items = [(p, None) for p in params]
    else:
        raise ValueError(
            f"params must be a sequence of field names or a name → transform "
            f"mapping, got {type(params).__name__}"
        )
    if not items:
        raise ValueError("params must name at least one parameter to learn")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"params has duplicate names: {names}")
    return tuple(names), tuple(_transform_of(model, n, t) for n, t in items)


def _transform_of(model, name, transform) -> AbstractTransform:
    if not isinstance(name, str):
        raise ValueError(f"params must be field names (str), got {name!r}")
    if name not in model.param_names:
        if hasattr(model, name):
            raise ValueError(
                f"params: {name!r} is not a float parameter field of "
                f"{type(model).__name__}; learnable ones are {model.param_names}"
            )
        raise ValueError(
            f"params: unknown parameter {name!r} for {type(model).__name__}; "
            f"known ones are {model.param_names}"
        )
    value = getattr(model, name)
    arr = np.asarray(value)
    if arr.shape != () or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise ValueError(f"params: {name!r} is not a float field (it holds {value!r})")
    value = float(arr)
    if transform is None:
        transform = default_transform(model, name, value)
    if not isinstance(transform, AbstractTransform):
        raise ValueError(
            f"params: the transform for {name!r} must be an "
            f"AbstractTransform, got {type(transform).__name__}"
        )
    if not transform.contains(value):
        raise ValueError(
            f"params: initial {name} = {value} is outside the range of its transform {transform}"
        )
    return transform


def _positive_int(name: str, value) -> int:
    if not (isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def resolve_phases(optimizer, steps) -> tuple[tuple[optax.GradientTransformation, int], ...]:
    """`((optimizer, steps), ...)`: one phase for a single optimiser, else the given ones."""
    if optimizer is None or isinstance(optimizer, optax.GradientTransformation):
        steps = _positive_int("steps", 200 if steps is None else steps)
        return ((DEFAULT_OPTIMIZER if optimizer is None else optimizer, steps),)
    if steps is not None:
        raise ValueError(
            "steps must be None when optimizer is a sequence of (optimizer, steps) phases"
        )
    try:
        phases = tuple((o, s) for o, s in optimizer)
    except (TypeError, ValueError):
        raise ValueError(
            f"optimizer must be an optax.GradientTransformation or a sequence of "
            f"(optimizer, steps) pairs, got {type(optimizer).__name__}"
        ) from None
    if not phases:
        raise ValueError("optimizer: the sequence of phases is empty")
    for o, s in phases:
        if not isinstance(o, optax.GradientTransformation):
            raise ValueError(
                f"optimizer: each phase needs an optax.GradientTransformation, "
                f"got {type(o).__name__}"
            )
        _positive_int("optimizer: each phase's steps", s)
    return tuple((o, int(s)) for o, s in phases)


def resolve_chunk_size(chunk_size) -> int:
    return _positive_int("chunk_size", chunk_size)


def restart_inits(u0: jax.Array, key, restarts, init_spread: float) -> jax.Array:
    """`[restarts, n_params]` starting points: u₀ itself (key None, one restart) or
    u₀ + init_spread·N(0, 1) drawn with one key per restart."""
    restarts = _positive_int("restarts", restarts)
    if key is None:
        if restarts != 1:
            raise ValueError(
                f"key is None but restarts = {restarts}: pass "
                "key=jax.random.key(seed) to draw the restarts"
            )
        return u0[None]
    keys = _restart_keys(key, restarts)
    noise = jax.vmap(lambda k: jax.random.normal(k, u0.shape, u0.dtype))(keys)
    return u0[None] + init_spread * noise


def _restart_keys(key, restarts: int):
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape == ():
            return jax.random.split(key, restarts)
        batch_shape = key.shape
    else:  # raw uint32 keys
        if key.shape == (2,):
            return jax.random.split(key, restarts)
        batch_shape = key.shape[:-1]
    if batch_shape != (restarts,):
        raise ValueError(
            f"key must be one PRNG key or a batch of {restarts} keys (one per "
            f"restart), got shape {key.shape}"
        )
    return key
