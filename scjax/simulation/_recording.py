"""What a run keeps: spikes as a raster, a count or a time buffer; which states; how often."""

import dataclasses

#: The spike recordings `simulate(spikes=...)` accepts.
SPIKE_RECORDINGS: tuple[str, ...] = ("raster", "count", "times")


@dataclasses.dataclass(frozen=True)
class Recording:
    """The static recording options of one run (hashable: part of the compiled loop's key).

    Attributes:
        spikes: `"raster"` (a bool per step, `[T]`), `"count"` (the number of spikes only:
            memory independent of T) or `"times"` (a buffer of `max_spikes` spike times per
            neuron with an overflow flag).
        state_indices: the columns of the state kept in `y`.
        save_every: keep the state every `save_every` steps.
        max_spikes: the capacity of the `"times"` buffer.
    """

    spikes: str
    state_indices: tuple[int, ...]
    save_every: int
    max_spikes: int


def make_recording(model, n_steps: int, spikes, record, save_every, max_spikes) -> Recording:
    """Check the recording arguments of `simulate`/`simulate_batch` against the model."""
    if spikes not in SPIKE_RECORDINGS:
        raise ValueError(f"spikes must be one of {SPIKE_RECORDINGS}, got {spikes!r}")
    if not (
        isinstance(save_every, int)
        and not isinstance(save_every, bool)
        and save_every >= 1
        and n_steps % save_every == 0
    ):
        raise ValueError(
            f"save_every must be a positive int dividing the {n_steps} steps, got {save_every!r}"
        )
    if not (isinstance(max_spikes, int) and not isinstance(max_spikes, bool) and max_spikes >= 1):
        raise ValueError(f"max_spikes must be a positive int, got {max_spikes!r}")
    if record is None:
        indices = tuple(range(model.n_state))
    else:
        names = (record,) if isinstance(record, str) else tuple(record)
        unknown = [n for n in names if n not in model.state_names]
        if unknown or not names or len(set(names)) != len(names):
            raise ValueError(
                f"record must name distinct states of {type(model).__name__} "
                f"{model.state_names}, got {record!r}"
            )
        indices = tuple(model.state_names.index(n) for n in names)
    return Recording(spikes, indices, save_every, max_spikes)
