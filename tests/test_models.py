"""Model facts declared on the models: the registry of concrete classes and the presets."""

import inspect

import equinox as eqx
import pytest

from scjax import models
from scjax.models._conductance import conductance_model_names


def _final_subclasses(cls):
    found, stack = set(), [cls]
    while stack:
        c = stack.pop()
        stack.extend(c.__subclasses__())
        if c.__module__.startswith("scjax.models.") and not inspect.isabstract(c):
            found.add(c)
    return found


def test_registry_lists_exactly_the_final_models():
    assert set(models.MODELS.values()) == _final_subclasses(models.AbstractNeuronModel)
    for name, cls in models.MODELS.items():
        assert cls.__name__ == name and getattr(models, name) is cls
    assert conductance_model_names() == ("HodgkinHuxley", "MorrisLecar")


#: Izhikevich (2003), Fig. 2: (a, b, c, d), typed from the paper.
IZHIKEVICH_2003 = {
    "RS": (0.02, 0.2, -65.0, 8.0),
    "IB": (0.02, 0.2, -55.0, 4.0),
    "CH": (0.02, 0.2, -50.0, 2.0),
    "FS": (0.1, 0.2, -65.0, 2.0),
    "LTS": (0.02, 0.25, -65.0, 2.0),
    "TC": (0.02, 0.25, -65.0, 0.05),
    "RZ": (0.1, 0.26, -65.0, 2.0),
}


@pytest.mark.parametrize("name", IZHIKEVICH_2003)
def test_izhikevich_presets_are_the_paper_values(name):
    a, b, c, d = IZHIKEVICH_2003[name]
    assert eqx.tree_equal(models.Izhikevich.preset(name), models.Izhikevich(a=a, b=b, c=c, d=d))


def test_adex_presets_are_naud_2008_table_1():
    # Naud et al. (2008) Table 1, tonic and bursting: C, g_L, E_L, V_T, Δ_T, τ_w, a, b, V_r.
    tonic = models.AdEx(200.0, 10.0, -70.0, -50.0, 2.0, 30.0, 2.0, 0.0, -58.0, v_peak=0.0)
    bursting = models.AdEx(200.0, 10.0, -58.0, -50.0, 2.0, 120.0, 2.0, 100.0, -46.0, v_peak=0.0)
    assert eqx.tree_equal(models.AdEx.preset("tonic"), tonic)
    assert eqx.tree_equal(models.AdEx.preset("bursting"), bursting)
    assert (models.ADEX_PRESETS["tonic"][1], models.ADEX_PRESETS["bursting"][1]) == (500.0, 210.0)
    # Keywords set further fields or override the preset's.
    override = models.AdEx.preset("tonic", v_peak=-40.0, integrator="rk4")
    assert (override.v_peak, override.integrator, override.tau_w) == (-40.0, "rk4", 30.0)


@pytest.mark.parametrize("cls", models.MODELS.values(), ids=lambda c: c.__name__)
def test_every_preset_builds_its_values_and_unknown_names_are_refused(cls):
    for name, values in cls.presets.items():
        model = cls.preset(name)
        assert {k: getattr(model, k) for k in values} == dict(values)
    if cls.presets:
        with pytest.raises(ValueError, match=r"name must be one of \(.*, got 'NOPE'"):
            cls.preset("NOPE")
    else:
        with pytest.raises(ValueError, match=f"name: {cls.__name__} has no presets, got 'X'"):
            cls.preset("X")
    assert bool(models.Izhikevich.presets) and bool(models.AdEx.presets)
