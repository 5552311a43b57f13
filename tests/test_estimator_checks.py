"""scikit-learn's estimator checks on GANAugmenter and AugmentedEstimator."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from ganaug import AugmentedEstimator, GANAugmenter
from ganaug.gan.presets import PRESETS

# Same design as the default preset, shrunk so the ~50 checks run in seconds.
FAST = PRESETS["default"].with_overrides(
    generator_hidden=(16,), discriminator_hidden=(16,), batch_size=16, epochs=1, noise_dim=4
)

# Every check passes: no expected failures to list.
EXPECTED_FAILURES: dict[str, str] = {}


@parametrize_with_checks(
    [
        GANAugmenter(preset=FAST, random_state=0),
        AugmentedEstimator(LogisticRegression(), GANAugmenter(preset=FAST, random_state=0)),
        AugmentedEstimator(Ridge(), GANAugmenter(preset=FAST, random_state=0)),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
