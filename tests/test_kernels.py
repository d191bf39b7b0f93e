import numpy as np
import pytest
from scipy import special

from curse_of_memory.targets.kernels import KernelSpecError, build_kernel, kernel_values

T = np.linspace(0.0, 20.0, 41)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"family": "exp", "a": 0.5}, np.exp(-0.5 * T)),
        ({"family": "geom", "q": 0.9}, 0.9**T),
        ({"family": "pol", "s": 1.0, "p": 1.1}, (1 + T) ** -1.1),
        ({"family": "pol"}, (1 + 0.1 * T) ** -1.1),
        ({"family": "airy", "a": 1.0, "t0": 6.0}, special.airy(T - 6.0)[0]),
        ({"family": "bump", "t0": 5.0, "w": 2.0}, np.exp(-(((T - 5) / 2) ** 2))),
        ({"family": "twoparts", "t0": 9.0}, np.exp(-T) + np.exp(-((T - 9) ** 2))),
        ({"family": "shift", "t0": 10.0, "w": 1.0}, ((T > 9) & (T < 11)).astype(float)),
        (
            {
                "family": "sum",
                "terms": [{"family": "exp"}, {"family": "geom", "q": 0.5}],
                "weights": [2.0, -1.0],
            },
            2 * np.exp(-T) - 0.5**T,
        ),
        (
            {"family": "expr", "formula": "exp(-t/3) * cos(t) + (t > 4) * 0.5"},
            np.exp(-T / 3) * np.cos(T) + (T > 4) * 0.5,
        ),
    ],
)
def test_family_values_match_closed_form(spec, expected):
    np.testing.assert_allclose(build_kernel(spec)(T), expected, rtol=1e-14, atol=1e-300)


def test_kernel_values_samples_at_steps_of_dt():
    values = kernel_values(build_kernel({"family": "exp"}), 5, 0.5)
    np.testing.assert_allclose(values, np.exp(-0.5 * np.arange(5)))


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"family": "nope"}, "k.family"),
        ({"family": "pol", "q": 1.0}, "k.q"),
        ({"family": "pol", "p": "big"}, "k.p"),
        ({"family": "geom", "q": -0.5}, "k.q"),
        ({"family": "bump"}, "k.t0"),
        ({"family": "sum", "terms": []}, "k.terms"),
        ({"family": "sum", "terms": [{"family": "exp", "b": 1}]}, "k.terms[0].b"),
        ({"family": "expr", "formula": "__import__('os')"}, "k.formula"),
        ({"family": "expr", "formula": "t.real"}, "k.formula"),
        ({"family": "expr", "formula": "1/(t-1)**0 * log(t - 100)"}, "k.formula"),
        ("exp", "k"),
    ],
)
def test_bad_specs_name_their_key(spec, key):
    with pytest.raises(KernelSpecError) as error:
        build_kernel(spec, "k")
    assert str(error.value).startswith(key + ":") or str(error.value).startswith(key + " ")
