"""Memory kernels rho(t): parameterised families built from a config mapping.

A spec is a mapping ``{"family": name, **parameters}``. Families:

========  =========================================  ==========================
family    rho(t)                                     parameters (defaults)
========  =========================================  ==========================
exp       exp(-a t)                                  a = 1
geom      q^t                                        q = 0.9
pol       (1 + s t)^(-p)                             s = 0.1, p = 1.1
airy      Ai(a (t - t0))                             a = 1, t0 = 6
bump      exp(-((t - t0) / w)^2)                     t0 (required), w = 1
twoparts  exp(-a t) + exp(-((t - t0) / w)^2)         t0 (required), w = 1, a = 1
shift     1 if t0 - w < t < t0 + w else 0            t0 (required), w = 1
sum       sum_i weight_i rho_i(t)                    terms (list of specs), weights
expr      any formula in t                           formula (string)
========  =========================================  ==========================

``expr`` evaluates an arithmetic formula in ``t`` with the functions exp, log, sqrt, sin,
cos, tanh, abs, airy (= Ai) and the constants pi, e; comparisons give 0/1. Only that
grammar is accepted, so a config cannot run code; a formula has at most
``MAX_FORMULA_LENGTH`` characters and ``MAX_FORMULA_DEPTH`` levels of nesting, and evaluates in
float64 (overflow gives inf, which the checks refuse, never an exception). Users add kernels
from the config with ``sum`` and ``expr``; code can register a family with
:func:`register_family`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import special

Kernel = Callable[[np.ndarray], np.ndarray]


class KernelSpecError(ValueError):
    """A kernel spec that cannot be built; the message names the offending key."""


@dataclass(frozen=True)
class Family:
    """A kernel family: rho = function(t, **parameters)."""

    function: Callable[..., np.ndarray]
    defaults: Mapping[str, float] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()


def _shift(t: np.ndarray, t0: float, w: float) -> np.ndarray:
    return ((t > t0 - w) & (t < t0 + w)).astype(float)


FAMILIES: dict[str, Family] = {
    "exp": Family(lambda t, a: np.exp(-a * t), {"a": 1.0}),
    "geom": Family(lambda t, q: np.power(q, t), {"q": 0.9}, positive=("q",)),
    "pol": Family(lambda t, s, p: (1.0 + s * t) ** (-p), {"s": 0.1, "p": 1.1}, positive=("s",)),
    "airy": Family(lambda t, a, t0: special.airy(a * (t - t0))[0], {"a": 1.0, "t0": 6.0}),
    "bump": Family(lambda t, t0, w: np.exp(-(((t - t0) / w) ** 2)), {"w": 1.0}, ("t0",), ("w",)),
    "twoparts": Family(
        lambda t, t0, w, a: np.exp(-a * t) + np.exp(-(((t - t0) / w) ** 2)),
        {"w": 1.0, "a": 1.0},
        ("t0",),
        ("w",),
    ),
    "shift": Family(_shift, {"w": 1.0}, ("t0",), ("w",)),
}

COMPOSITE_FAMILIES = ("sum", "expr")


def register_family(name: str, family: Family) -> None:
    """Add a kernel family usable from config as ``{"family": name, ...}``."""
    if name in FAMILIES or name in COMPOSITE_FAMILIES:
        raise ValueError(f"kernel family '{name}' already exists")
    FAMILIES[name] = family


def family_names() -> list[str]:
    return sorted([*FAMILIES, *COMPOSITE_FAMILIES])


def build_kernel(spec: Mapping, where: str = "kernel") -> Kernel:
    """Build rho from ``spec``; raise KernelSpecError naming ``where.<key>`` on bad input."""
    if not isinstance(spec, Mapping):
        raise KernelSpecError(f"{where}: expected a mapping with a 'family' key, got {spec!r}")
    name = spec.get("family")
    if name == "sum":
        return _build_sum(spec, where)
    if name == "expr":
        return _build_expr(spec, where)
    if name not in FAMILIES:
        raise KernelSpecError(
            f"{where}.family: unknown kernel family {name!r}; known: {', '.join(family_names())}"
        )
    family = FAMILIES[name]
    params = dict(family.defaults)
    for key, value in spec.items():
        if key == "family":
            continue
        if key not in family.defaults and key not in family.required:
            known = ", ".join([*family.required, *family.defaults]) or "none"
            raise KernelSpecError(
                f"{where}.{key}: unknown parameter for family '{name}' (parameters: {known})"
            )
        params[key] = _number(value, f"{where}.{key}")
    for key in family.required:
        if key not in params:
            raise KernelSpecError(f"{where}.{key}: required parameter of family '{name}' missing")
    for key in family.positive:
        if params[key] <= 0:
            raise KernelSpecError(
                f"{where}.{key}: must be > 0 for family '{name}', got {params[key]}"
            )

    def kernel(t: np.ndarray) -> np.ndarray:
        return np.asarray(family.function(np.asarray(t, dtype=float), **params), dtype=float)

    return kernel


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KernelSpecError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value):
        raise KernelSpecError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _build_sum(spec: Mapping, where: str) -> Kernel:
    unknown = set(spec) - {"family", "terms", "weights"}
    if unknown:
        raise KernelSpecError(f"{where}.{sorted(unknown)[0]}: unknown key for family 'sum'")
    terms = spec.get("terms")
    if not isinstance(terms, list) or not terms:
        raise KernelSpecError(f"{where}.terms: family 'sum' needs a non-empty list of kernels")
    kernels = [build_kernel(term, f"{where}.terms[{i}]") for i, term in enumerate(terms)]
    weights = spec.get("weights", [1.0] * len(kernels))
    if not isinstance(weights, list) or len(weights) != len(kernels):
        raise KernelSpecError(f"{where}.weights: need one weight per term ({len(kernels)})")
    coefficients = [_number(w, f"{where}.weights[{i}]") for i, w in enumerate(weights)]

    def kernel(t: np.ndarray) -> np.ndarray:
        return sum(c * k(t) for c, k in zip(coefficients, kernels))

    return kernel


_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "abs": np.abs,
    "airy": lambda x: special.airy(x)[0],
}
_CONSTANTS = {"pi": np.float64(math.pi), "e": np.float64(math.e)}
MAX_FORMULA_LENGTH = 1000  # characters: longer kernels are a `sum` of formulas
MAX_FORMULA_DEPTH = 64  # nested operations and calls (each level is a recursion of the checks)
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _build_expr(spec: Mapping, where: str) -> Kernel:
    unknown = set(spec) - {"family", "formula"}
    if unknown:
        raise KernelSpecError(f"{where}.{sorted(unknown)[0]}: unknown key for family 'expr'")
    formula = spec.get("formula")
    if not isinstance(formula, str) or not formula.strip():
        raise KernelSpecError(f"{where}.formula: family 'expr' needs a formula string in t")
    if len(formula) > MAX_FORMULA_LENGTH:
        raise KernelSpecError(
            f"{where}.formula: {len(formula)} characters, at most {MAX_FORMULA_LENGTH} "
            "(write a longer kernel as a `sum` of formulas)"
        )
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as error:
        raise KernelSpecError(
            f"{where}.formula: not a formula ({error.msg}): {formula!r}"
        ) from None
    except (ValueError, MemoryError, RecursionError) as error:
        raise KernelSpecError(
            f"{where}.formula: not a formula ({type(error).__name__}: {error})"
        ) from None
    _check_expr(tree.body, f"{where}.formula")

    def kernel(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        try:
            with np.errstate(all="ignore"):
                value = _evaluate(tree.body, t)
        except (ArithmeticError, ValueError, MemoryError, RecursionError) as error:
            raise KernelSpecError(
                f"{where}.formula: {formula!r} cannot be evaluated ({type(error).__name__}: "
                f"{error})"
            ) from None
        return np.broadcast_to(np.asarray(value, dtype=float), t.shape).copy()

    probe = kernel(np.linspace(0.0, 10.0, 11))
    if not np.all(np.isfinite(probe)):
        raise KernelSpecError(f"{where}.formula: {formula!r} is not finite on t in [0, 10]")
    return kernel


def _check_expr(node: ast.AST, where: str, depth: int = 0) -> None:
    if depth > MAX_FORMULA_DEPTH:
        raise KernelSpecError(
            f"{where}: nested more than {MAX_FORMULA_DEPTH} levels deep "
            "(write a long kernel as a `sum` of formulas)"
        )
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    ):
        try:
            finite = math.isfinite(float(node.value))
        except OverflowError:
            finite = False
        if not finite:
            raise KernelSpecError(f"{where}: the number {str(node.value)[:20]} is out of range")
        return
    if isinstance(node, ast.Name) and (node.id == "t" or node.id in _CONSTANTS):
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check_expr(node.left, where, depth + 1)
        _check_expr(node.right, where, depth + 1)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check_expr(node.operand, where, depth + 1)
        return
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        _check_expr(node.left, where, depth + 1)
        _check_expr(node.comparators[0], where, depth + 1)
        return
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        _check_expr(node.args[0], where, depth + 1)
        return
    allowed = "numbers, t, pi, e, + - * / **, < <= > >=, " + ", ".join(_FUNCTIONS)
    raise KernelSpecError(
        f"{where}: unsupported element {ast.dump(node)[:60]} (allowed: {allowed})"
    )


def _evaluate(node: ast.AST, t: np.ndarray):
    if isinstance(node, ast.Constant):  # numpy scalars: overflow gives inf, 1/0 gives inf
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return t if node.id == "t" else _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, t), _evaluate(node.right, t))
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, t)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Compare):
        compare = _COMPARE[type(node.ops[0])]
        return compare(_evaluate(node.left, t), _evaluate(node.comparators[0], t)) * 1.0
    return _FUNCTIONS[node.func.id](_evaluate(node.args[0], t))


def kernel_values(kernel: Kernel, length: int, dt: float) -> np.ndarray:
    """rho(s dt) for s = 0..length-1."""
    return kernel(np.arange(length, dtype=float) * dt)
