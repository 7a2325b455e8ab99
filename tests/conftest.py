import jax
import pytest

# Tests are the application here: they, not the library, switch float64 on.
jax.config.update("jax_enable_x64", True)


@pytest.fixture
def getkey():
    keys = iter(jax.random.split(jax.random.key(5678), 1000))
    return lambda: next(keys)
