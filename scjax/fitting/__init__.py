"""Fitting model parameters to data by gradient descent through `scjax.simulate`.

`fit` (also `scjax.fit`) is the entry point; `FitResult` its outcome. Learnt parameters live
in an unconstrained space through the transforms below (`default_transform` picks one from the
model's `param_domains`). Voltage data carry their time axis as a `Recording`. The loss
functions are in `scjax.losses`.
"""

from ._alignment import Recording as Recording
from ._fit import fit as fit
from ._objective import LOSS_NAMES as LOSS_NAMES
from ._options import (
    DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE,
)
from ._options import (
    DEFAULT_OPTIMIZER as DEFAULT_OPTIMIZER,
)
from ._result import (
    FitFailedError as FitFailedError,
)
from ._result import (
    FitInterrupted as FitInterrupted,
)
from ._result import (
    FitResult as FitResult,
)
from ._transforms import (
    AbstractTransform as AbstractTransform,
)
from ._transforms import (
    Affine as Affine,
)
from ._transforms import (
    Exp as Exp,
)
from ._transforms import (
    Sigmoid as Sigmoid,
)
from ._transforms import (
    Softplus as Softplus,
)
from ._transforms import (
    default_transform as default_transform,
)
