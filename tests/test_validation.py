"""One validation layer: parameter domains declared on the models, and the same answer for a
value whatever its array type (Python float, NumPy scalar / array, concrete JAX array)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import losses, models
from scjax.fitting import Affine, Softplus, default_transform
from scjax.models import Domain, domain_table

ARRAY_TYPES = {
    "float": float,
    "np.float32": np.float32,
    "np.array": lambda x: np.array(x),
    "jnp.asarray": lambda x: jnp.asarray(x),
}

NEURON_MODELS = [
    models.AdEx,
    models.HodgkinHuxley,
    models.Izhikevich,
    models.LIF,
    models.MorrisLecar,
    models.FitzHughNagumo,
    models.FixedPointLIF,
]
ALL_MODELS = NEURON_MODELS + [
    models.BiolekMemristor,
    models.GammaOscillation,
    models.Homeostasis,
    models.Kuramoto,
    models.Lindblad,
    models.PredictiveCoding,
    models.SCEquilibrium,
    models.STDPCurve,
]


# --- parameter domains ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ARRAY_TYPES)
@pytest.mark.parametrize(
    "cls,name,value",
    [
        (models.LIF, "tau_m", 0.0),
        (models.HodgkinHuxley, "c_m", 0.0),
        (models.FitzHughNagumo, "tau_w", 0.0),
        (models.MorrisLecar, "v4", 0.0),
        (models.AdEx, "c", -1.0),
        (models.AdEx, "tau_w", -1e-300),
        (models.HodgkinHuxley, "g_na", -1.0),
        (models.Lindblad, "gamma", -0.1),
        (models.FixedPointLIF, "dt", 0.0),
    ],
)
def test_unphysical_parameters_are_refused_whatever_their_type(cls, name, value, kind):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: {name} must be (> 0|>= 0)"):
        cls(**{name: ARRAY_TYPES[kind](value)})


def test_every_element_of_a_batch_is_checked():
    with pytest.raises(
        ValueError,
        match=r"c must be > 0 \(pF\), got \[281.0, -281.0\] "
        r"\(element 1 = -281.0\)",
    ):
        models.AdEx(c=[281, -281])
    with pytest.raises(ValueError, match="element 1"):
        models.AdEx(c=jnp.array([281.0, -281.0]))
    ok = models.AdEx(c=jnp.array([281.0, 200.0]))
    assert ok.c.shape == (2,)
    # An empty batch is no batch: refused as a stimulus's is (one check for both).
    with pytest.raises(ValueError, match="^e_l must not be empty$"):
        models.AdEx(e_l=np.zeros(0))
    with pytest.raises(ValueError, match="^Constant: amplitude must not be empty$"):
        scjax.stimulus.Constant(np.zeros(0))


def test_boundaries_follow_the_declared_kind():
    assert models.HodgkinHuxley(g_l=0.0).g_l == 0.0  # a conductance may be zero
    assert models.HodgkinHuxley(g_l=5e-324).g_l > 0.0
    with pytest.raises(ValueError, match="c_m must be > 0"):
        models.HodgkinHuxley(c_m=-0.0)
    np.testing.assert_array_equal(
        Domain.positive().contains([-1.0, 0.0, 1e-300, np.inf]), [False, False, True, False]
    )
    np.testing.assert_array_equal(Domain.nonnegative().contains([-1e-300, 0.0]), [False, True])
    np.testing.assert_array_equal(
        Domain.interval(0, 1).contains([0.0, 1.0, 1.0 + 1e-15]), [True, True, False]
    )
    assert Domain.interval(0, 1, open=True).describe() == "(0, 1)"
    with pytest.raises(ValueError, match="low <= high"):
        Domain.interval(1.0, 0.0)


def test_traced_values_are_not_checked_at_construction():
    # Under jit the value is unknown at trace time; construction goes through and the value
    # is returned unchanged (the loop checks its run-time consequences).
    c = jax.jit(lambda c: models.AdEx(c=c).c)(-1.0)
    assert float(c) == -1.0
    with pytest.raises(ValueError, match="c must be > 0"):
        models.AdEx(c=-1.0)


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.__name__)
def test_domains_name_real_parameters_and_neuron_models_declare_all(cls):
    declared = set(cls.param_domains)
    assert declared <= set(cls.param_names), declared - set(cls.param_names)
    if cls in NEURON_MODELS:
        assert declared == set(cls.param_names)
        assert all(d.units for d in cls.param_domains.values())
    # The defaults lie inside the domains (the constructor checked them).
    m = cls()
    for name, domain in cls.param_domains.items():
        assert bool(np.all(domain.contains(getattr(m, name)))), name


#: The table `scjax._transforms.POSITIVE_FIELDS` held before the domains replaced it.
OLD_POSITIVE_FIELDS = {
    "AdEx": {"c", "g_l", "delta_t", "tau_w"},
    "HodgkinHuxley": {"c_m", "g_na", "g_k", "g_l"},
    "Izhikevich": {"a"},
    "LIF": {"tau_m", "r_m"},
    "MorrisLecar": {"c", "g_l", "g_ca", "g_k", "phi", "v2", "v4"},
    "FitzHughNagumo": {"tau_w"},
}


@pytest.mark.parametrize("name", OLD_POSITIVE_FIELDS)
def test_default_transforms_come_from_the_domains_as_before(name):
    cls = models.MODELS[name]
    m = cls()
    for field in cls.param_names:
        value = float(getattr(m, field))
        scale = abs(value) or 1.0
        expected = (
            Softplus(scale=scale) if field in OLD_POSITIVE_FIELDS[name] else Affine(scale=scale)
        )
        assert default_transform(m, field, value) == expected, field


def test_domain_table_renders_every_parameter():
    table = domain_table(models.AdEx).splitlines()
    assert table[0] == "| parameter | default | range | units |"
    assert len(table) == 2 + len(models.AdEx.param_names)
    assert "| `c` | 281.0 | > 0 | pF |" in table
    assert "| `a` | 4.0 | real | nS |" in table
    rows = domain_table(models.HodgkinHuxley)
    assert "| `g_na` | 120.0 | >= 0 | mS/cm² |" in rows.splitlines()
    assert [f.name for f in dataclasses.fields(models.AdEx)][:3] == ["c", "g_l", "e_l"]


# --- losses: one check whatever the array type -----------------------------------------------


@pytest.fixture(scope="module")
def spike_signals():
    tr = scjax.simulate(scjax.Izhikevich.preset("RS"), jnp.full(400, 10.0), dt=0.1)
    sig = np.asarray(tr.as_spike_signal())
    assert sig.sum() >= 2
    return sig, np.roll(sig, 3)


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_loss_hyperparameters_get_the_same_answer_whatever_their_type(spike_signals, kind):
    a, b = spike_signals
    wrap = ARRAY_TYPES[kind]
    for bad in (-1.0, 0.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="tau must be"):
            losses.van_rossum(a, b, 0.1, tau=wrap(bad))
        with pytest.raises(ValueError, match="dt must be"):
            losses.van_rossum(a, b, wrap(bad))
        with pytest.raises(ValueError, match="dt must be"):
            losses.firing_rate(a, 10.0, dt=wrap(bad))
    reference = float(losses.van_rossum(a, b, 0.1, tau=10.0))
    assert float(losses.van_rossum(a, b, wrap(0.1), tau=wrap(10.0))) == pytest.approx(
        reference, rel=1e-6
    )
    # 40 ms window, N spikes: r = N / 0.04 s.
    assert float(losses.firing_rate_of(a, wrap(0.1))) == pytest.approx(a.sum() / 0.04, rel=1e-6)


def test_subnormal_or_vanishing_dt_is_refused_not_overflowed(spike_signals):
    a, b = spike_signals
    for call in (
        lambda: losses.van_rossum(a, b, 5e-324),
        lambda: losses.firing_rate(a, 10.0, dt=5e-324),
        lambda: losses.spike_times_to_signal([1.0], 10, 5e-324),
    ):
        with pytest.raises(ValueError, match="dt = 5e-324 is too small"):
            call()
    with pytest.raises(ValueError, match="too small for the span"):
        losses.spike_times_to_signal([1e6 + 1.0], 10, 1e-12, t0=1e6)


def test_traced_hyperparameters_are_checked_at_run_time(spike_signals):
    a, b = spike_signals
    f = jax.jit(lambda dt, tau: losses.van_rossum(a, b, dt, tau))
    assert float(f(0.1, 10.0)) == pytest.approx(
        float(losses.van_rossum(a, b, 0.1, 10.0)), rel=1e-12
    )
    with pytest.raises(Exception, match="tau must be positive"):
        f(0.1, -1.0).block_until_ready()
    with pytest.raises(Exception, match="dt must be positive"):
        jax.jit(lambda dt: losses.firing_rate_of(a, dt))(0.0).block_until_ready()
