"""The peer checks: imbalanced-learn's sampler suite on GANAugmenter, scikit-learn's suite on
GANAugmenter and AugmentedEstimator."""

from imblearn.utils.estimator_checks import parametrize_with_checks as imblearn_checks
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from ganaug import AugmentedEstimator, GANAugmenter
from ganaug.gan.presets import PRESETS

# Same design as the default preset, shrunk so the ~70 checks run in seconds.
FAST = PRESETS["default"].with_overrides(
    generator_hidden=(16,), discriminator_hidden=(16,), batch_size=16, epochs=1, noise_dim=4
)

# Every imbalanced-learn check passes: nothing to declare.
IMBLEARN_EXPECTED_FAILURES: dict[str, str] = {}

# scikit-learn: one check is declared, for AugmentedEstimator only.
AUGMENTED_EXPECTED_FAILURES: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": (
        "weights reach the wrapped estimator only: the GAN is trained on the unweighted rows, so "
        "a weight of 2 does not train the same GAN (nor draw the same synthetic rows) as a "
        "duplicated row"
    ),
}


def expected_failures(estimator) -> dict[str, str]:
    return AUGMENTED_EXPECTED_FAILURES if isinstance(estimator, AugmentedEstimator) else {}


@parametrize_with_checks(
    [
        GANAugmenter(preset=FAST, random_state=0),
        AugmentedEstimator(LogisticRegression(), GANAugmenter(preset=FAST, random_state=0)),
        # a regressor: the augmenter's clone gets task="regression"
        AugmentedEstimator(Ridge(), GANAugmenter(preset=FAST, random_state=0)),
    ],
    expected_failed_checks=expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@imblearn_checks(
    [GANAugmenter(preset=FAST, random_state=0)],
    expected_failed_checks=lambda est: IMBLEARN_EXPECTED_FAILURES,
)
def test_imblearn_sampler_checks(estimator, check):
    check(estimator)
