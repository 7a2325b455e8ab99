import jax.numpy as jnp

import scjax


def test_izhikevich_rs_spikes_regularly():
    tr = scjax.simulate(scjax.Izhikevich.preset("RS"), jnp.full(2000, 10.0), dt=0.1)
    assert tr.y.shape == (2001, 2)
    assert 3 <= int(tr.spike_count) <= 8
