"""`scjax fit config.toml`: fit a model to recorded data described by a TOML or JSON file.

Example config (TOML)::

    model = "AdEx"                 # a class in scjax.models
    [model_params]                 # the initial guess (fields not given keep their defaults)
    a = 5.0
    b = 60.0
    tau_w = 180.0

    [data]
    file = "recording.npz"         # .npz with arrays `current` and `v` (or `spike_times`),
    dt = 0.1                       # or .csv with columns current,v (header row; `#` comments)

    [fit]
    params = ["a", "b", "tau_w"]
    loss = "van_rossum"            # trace_mse | van_rossum | spike_count | firing_rate
    tau = 10.0                     # van Rossum kernel, ms
    subthreshold = -55.0           # trace_mse: only samples of the target below it
    steps = 300
    restarts = 8
    seed = 0
    surrogate = "fast_sigmoid"     # sigmoid | fast_sigmoid | none
    [fit.optimizer]
    name = "adam"                  # any optax optimiser taking a learning rate
    learning_rate = 0.03

    [output]
    dir = "fit_out"                # writes fitted_model.json, fit.png, loss.csv

Relative paths are relative to the config file. The data file's `dt` may also be stored in the
.npz as a scalar array `dt`.
"""

import argparse
import json
import pathlib
import tomllib

import numpy as np

_FIT_KEYS = {"params", "loss", "tau", "subthreshold", "steps", "restarts", "seed", "surrogate",
             "optimizer", "init_spread"}


def _load_config(path: pathlib.Path) -> dict:
    text = path.read_text()
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    raise ValueError(f"config must be a .toml or .json file, got {path.name}")


def _load_data(path: pathlib.Path) -> dict:
    if not path.exists():
        raise ValueError(f"data file {str(path)!r} does not exist")
    if path.suffix == ".npz":
        with np.load(path) as f:
            return {k: np.asarray(f[k]) for k in f.files}
    if path.suffix == ".csv":
        table = np.genfromtxt(path, delimiter=",", names=True, comments="#")
        if table.dtype.names is None:
            raise ValueError(f"{path.name}: the csv needs a header row, e.g. 'current,v'")
        return {name: np.asarray(table[name], dtype=float) for name in table.dtype.names}
    raise ValueError(f"data file must be .npz or .csv, got {path.name}")


def _make_optimizer(spec):
    import optax

    spec = {"name": "adam", "learning_rate": 1e-2, **(spec or {})}
    name = spec.pop("name")
    factory = getattr(optax, name, None)
    if factory is None or not callable(factory):
        raise ValueError(f"fit.optimizer.name: optax has no optimiser {name!r}")
    return factory(**spec)


def run(config: dict, base: pathlib.Path, *, progress: bool = True) -> dict:
    """Run one fit from a parsed config; returns the summary written to fitted_model.json."""
    import jax

    import scjax
    from scjax import models

    from ._fit import fit

    model_name = config.get("model")
    cls = getattr(models, str(model_name), None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, models.AbstractNeuronModel):
        raise ValueError(f"model: unknown model {model_name!r}")
    model = cls(**config.get("model_params", {}))

    data_cfg = dict(config.get("data", {}))
    if "file" not in data_cfg:
        raise ValueError("data.file is required")
    data = _load_data(base / data_cfg["file"])
    if "current" not in data:
        raise ValueError(f"data file must hold a 'current' array/column, got {sorted(data)}")
    current = np.asarray(data["current"], dtype=float)
    dt = float(data_cfg.get("dt", data.get("dt", np.nan)))
    if not np.isfinite(dt):
        raise ValueError("data.dt is required (in the config or as 'dt' in the .npz)")

    fit_cfg = dict(config.get("fit", {}))
    unknown = set(fit_cfg) - _FIT_KEYS
    if unknown:
        raise ValueError(f"fit: unknown keys {sorted(unknown)}; known: {sorted(_FIT_KEYS)}")
    loss = fit_cfg.get("loss", "trace_mse")
    if loss == "trace_mse":
        if "v" not in data:
            raise ValueError("loss trace_mse needs a 'v' array/column in the data file")
        target = np.asarray(data["v"], dtype=float)
    elif "spike_times" in data:
        target = np.asarray(data["spike_times"], dtype=float)
    elif "v" in data:
        # Spikes of a recording: upward crossings of 0 mV.
        v = np.asarray(data["v"], dtype=float)
        up = np.nonzero((v[:-1] < 0.0) & (v[1:] >= 0.0))[0]
        # v[k] is the state at t0 + k·dt when v includes y[0], at t0 + (k+1)·dt otherwise.
        target = (up + 1) * dt if len(v) == len(current) + 1 else (up + 2) * dt
    else:
        raise ValueError("spike losses need 'spike_times' or 'v' in the data file")
    surrogate = fit_cfg.get("surrogate", "fast_sigmoid")
    surrogate = None if surrogate in (None, "none") else surrogate
    restarts = int(fit_cfg.get("restarts", 1))
    seed = fit_cfg.get("seed", 0 if restarts > 1 else None)
    steps = int(fit_cfg.get("steps", 200))

    bar = None
    callback = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is a dev extra; the fit itself does not need it
            tqdm = None
        if tqdm is not None:
            bar = tqdm(total=steps, desc="fit", unit="step")

            def callback(i, losses):
                bar.update(1)
                bar.set_postfix(loss=f"{float(np.nanmin(losses)):.4g}")

    kwargs = {}
    if "subthreshold" in fit_cfg:
        kwargs["subthreshold"] = float(fit_cfg["subthreshold"])
    if "init_spread" in fit_cfg:
        kwargs["init_spread"] = float(fit_cfg["init_spread"])
    try:
        result = fit(
            model, current=current, dt=dt, target=target, params=tuple(fit_cfg.get("params", ())),
            loss=loss, tau=float(fit_cfg.get("tau", 10.0)),
            optimizer=_make_optimizer(fit_cfg.get("optimizer")), steps=steps, restarts=restarts,
            key=None if seed is None else jax.random.key(int(seed)), surrogate=surrogate,
            callback=callback, **kwargs)
    finally:
        if bar is not None:
            bar.close()

    out_dir = base / config.get("output", {}).get("dir", "fit_out")
    out_dir.mkdir(parents=True, exist_ok=True)
    fitted = result.model
    summary = {
        "model": type(fitted).__name__,
        "params": {n: float(getattr(fitted, n)) for n in fitted.param_names},
        "fitted": result.params,
        "loss": result.loss,
        "best_restart": result.best_restart,
        "wall_time_s": result.wall_time_s,
    }
    (out_dir / "fitted_model.json").write_text(json.dumps(summary, indent=2))
    np.savetxt(out_dir / "loss.csv", np.asarray(result.loss_history).T, delimiter=",",
               header=",".join(f"restart{r}" for r in range(restarts)))
    _plot(out_dir / "fit.png", scjax.simulate(fitted, current, dt), target, loss, dt,
          result.loss_history[result.best_restart])
    return summary


def _plot(path, tr, target, loss, dt, history):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plotting is optional (matplotlib is a dev extra)
        return
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.5), width_ratios=(3, 1))
    t = np.asarray(tr.t)
    if loss == "trace_mse":
        tt = t if len(target) == len(t) else t[1:]
        ax.plot(tt, target, color="k", lw=1, label="target")
    else:
        ax.eventplot([np.asarray(target)], lineoffsets=-85, linelengths=6, colors="k")
        ax.plot([], [], color="k", label="target spikes")
    ax.plot(t, np.asarray(tr.v), color="C1", lw=1, label="fit")
    ax.set(xlabel="t (ms)", ylabel="v (mV)")
    ax.legend(loc="upper right")
    ax_loss.semilogy(np.maximum(np.asarray(history), 1e-300))
    ax_loss.set(xlabel="step", ylabel="loss")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scjax fit", description=__doc__.splitlines()[0])
    parser.add_argument("config", type=pathlib.Path, help="TOML or JSON fit description")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.add_argument("--x64", action="store_true", help="run in float64 (enables jax_enable_x64)")
    args = parser.parse_args(argv)
    if args.x64:
        import jax

        # The command line is an application: it may set global JAX configuration.
        jax.config.update("jax_enable_x64", True)
    try:
        config = _load_config(args.config)
        summary = run(config, args.config.resolve().parent, progress=not args.no_progress)
    except (ValueError, OSError) as e:
        print(f"scjax fit: error: {e}")
        return 2
    print(json.dumps(summary["fitted"], indent=2))
    return 0
