r"""The solve loop: per-view criteria compiled on a ``BudgetOptimizer``, solved and checked.

Every plan the allocator reports comes from one of two problems over the
feasible set :math:`P = \{a : \sum a = B,\ l \le a \le u\}`:

- :meth:`Engine.maximise`: :math:`\max_{a \in P} \sum_m c_m\, \psi_m(a)`, e.g. one
  view's value (its optimum) or the sum of the views' values (averaged plan);
- :meth:`Engine.minimax`: :math:`\min_{a \in P} \max_m \phi_m(a)` with
  :math:`\phi_m = \alpha_m + \beta_m \psi_m` an affine map of a per-view
  criterion, e.g. weighted normalised regret :math:`w_m (1 - V_m / V^*_m)` or
  :math:`-\log P_m`, solved in epigraph form (:math:`\min t` s.t.
  :math:`\phi_m(a) \le t`).

:math:`\psi_m` is a per-view criterion (:class:`Criterion`) built by the public
factories of :mod:`pymc_robust_alloc.utility` and :mod:`pymc_robust_alloc.success`
on the ``BudgetOptimizer``'s own response graph, and compiled once per view
with its gradient, so a solve that needs one view evaluates only that view.

Solves run in scaled variables :math:`z = a / s`, :math:`s = B / n`, with
objectives of order one, so the same problem in cents or in millions, or with
responses in any unit, gives the same plan. A solve is reported converged only
if SciPy says so *and* the plan is feasible (budget to ``1e-9`` relative, bounds)
*and* a first-order measure is below its tolerance:

- maximisation: the Frank-Wolfe gap :math:`\max_{y \in P} \nabla f(a)^\top (y - a)`
  relative to :math:`|f(a)|`; for concave :math:`f` it bounds the distance to the
  optimum, :math:`f^* - f(a) \le` gap;
- minimax: the gap between :math:`\max_m \phi_m(a)` and the bound of the
  linearised problem at :math:`a`; for convex :math:`\phi_m` that bound is a
  proven lower bound on the optimal max (a certificate, see
  :meth:`Polytope.minimax_lower_bound`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import io
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace, vectorize_graph
from pytensor.graph.rewriting.db import RewriteDatabaseQuery
from pytensor.graph.rewriting.utils import rewrite_graph
from pytensor.graph.traversal import ancestors, io_toposort
from pytensor.link.vm import VMLinker
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.subtensor import AdvancedIncSubtensor
from pytensor.xtensor.type import XTensorVariable
from scipy.optimize import OptimizeResult, linprog, minimize

__all__ = [
    "Criterion",
    "Engine",
    "Polytope",
    "Solve",
    "code_version",
    "disk_cached",
    "graph_key",
    "load",
    "python_mode",
    "store",
]


#: Feasibility tolerance, relative to the budget.
FEASIBILITY = 1e-9


def python_mode() -> Mode:
    """PyTensor mode that compiles in well under a second: NumPy kernels, no JIT.

    A budget problem is small (views x draws x cells), so each graph evaluation
    takes microseconds to milliseconds in NumPy, while Numba or C compilation of
    the same graph takes tens of seconds on an empty cache. This mode runs
    every op's NumPy implementation after PyTensor's ``fast_run`` rewrites, less
    those that only pay off in compiled code (elementwise fusion, in-place
    updates, BLAS, C- and Numba-only): at this size each op costs more in
    Python overhead than in arithmetic, so fewer ops is what counts.

    Returns
    -------
    pytensor.compile.mode.Mode

    Examples
    --------
    >>> python_mode().linker
    VMLinker(use_cloop=False, lazy=None, allow_partial_eval=None, allow_gc=True)
    """
    # ``fill`` (``Second``), which gradients are full of, has no NumPy kernel: the
    # Python VM would run it element by element, so rewrite it to ``Alloc``.
    rewrites = RewriteDatabaseQuery(
        include=["fast_run", "local_second_to_alloc"],
        exclude=["fusion", "inplace", "BlasOpt", "cxx_only", "numba_only"],
    )
    return Mode(linker=VMLinker(use_cloop=False, c_thunks=False), optimizer=rewrites)


def _is_python_mode(mode) -> bool:
    return isinstance(mode, Mode) and getattr(mode.linker, "c_thunks", None) is False


def graph_key(outputs: Sequence[Variable], *extra) -> str | None:
    """Key of the computation ``outputs`` perform, equal across processes.

    Ops are identified as PyTensor identifies them (their type and
    ``__props__``), constants by their data, other inputs by type and name
    (a shared variable's value is read at each call, so it is not part of the
    key). ``extra`` (reprs) and the versions of Python and PyTensor join the
    key. ``None`` when some op cannot be identified reliably.
    """
    digest = hashlib.sha256(repr((sys.version, pytensor.__version__, extra)).encode())
    index: dict[Variable, int] = {}

    def name(v: Variable) -> int:
        if v not in index:
            index[v] = len(index)
            # Parameterless types (slices, None) print their address: drop it.
            digest.update(re.sub(" at 0x[0-9a-f]+", "", repr(v.type)).encode())
            if isinstance(v, Constant):
                data = np.asarray(v.data)
                content = repr(v.data).encode() if data.dtype == object else data.tobytes()
                digest.update(f"{data.dtype}{data.shape}".encode() + content)
            elif v.owner is None:
                shared = isinstance(v, SharedVariable)
                digest.update(f"input {v.name} {shared}".encode())
        return index[v]

    for node in io_toposort([], list(outputs)):
        text = _op_identity(node.op)
        if text is None:
            return None
        digest.update(text.encode())
        digest.update(repr([name(i) for i in node.inputs]).encode())
        for o in node.outputs:
            name(o)
    digest.update(repr([name(o) for o in outputs]).encode())
    return digest.hexdigest()


def _op_identity(op) -> str | None:
    """Return an op's type and parameters (``__props__``, else ``__slots__``), or None."""
    names = getattr(op, "__props__", None)
    if names is None:
        names = [n for c in type(op).__mro__ for n in getattr(c, "__slots__", ())]
        if not names:
            return None
    text = repr((type(op).__module__, type(op).__qualname__, [getattr(op, n) for n in names]))
    return None if " at 0x" in text else text


@functools.cache
def code_version() -> str:
    """Digest of this package's source and the versions of the libraries its graphs come from.

    Part of every disk-cache key made from inputs rather than from graphs: a
    change of code, PyTensor, PyMC or PyMC-Marketing makes new keys.
    """
    digest = hashlib.sha256(repr((sys.version, *(_version(n) for n in _LIBRARIES))).encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: Libraries whose versions key the disk cache.
_LIBRARIES = ("numpy", "pytensor", "pymc", "pymc-marketing", "xarray")


def _version(name: str) -> str:
    return importlib.metadata.version(name)


def disk_cached[T](key: str | None, build: Callable[[], T], directory: Path | None = None) -> T:
    """Return ``build()``, pickled by ``key`` (under PyTensor's compiledir) for the next process.

    Compiled functions of a graph that was seen before load in milliseconds
    instead of being rewritten and linked again. Without a key, or when the
    stored file cannot be read, ``build()`` runs.
    """
    if key is None:
        return build()
    value = load(key, directory)
    if value is None:
        value = build()
        store(key, value, directory)
    return value


def load(key: str | None, directory: Path | None = None) -> object | None:
    """Return what :func:`store` pickled by ``key``, or ``None`` if nothing readable is there."""
    if key is None:
        return None
    try:
        with _cache_path(key, directory).open("rb") as f:
            return pickle.load(f)
    except Exception:
        return None


def store(key: str | None, value: object, directory: Path | None = None) -> None:
    """Pickle ``value`` by ``key`` for :func:`disk_cached`, replacing what was there.

    The write is atomic (a reader never sees half a file); a value that cannot
    be pickled, or a directory that cannot be written, leaves the cache as it was.
    """
    if key is None:
        return
    path = _cache_path(key, directory)
    stored = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as f:
            stored = Path(f.name)
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(stored, path)
    except Exception:
        if stored is not None:
            stored.unlink(missing_ok=True)


def _cache_path(key: str, directory: Path | None) -> Path:
    directory = directory or Path(pytensor.config.compiledir) / "pymc_robust_alloc"
    return directory / f"{key}.pkl"


@dataclass(frozen=True)
class SideConstraints:
    r"""User constraints on the flat plan, compiled: :math:`c(a) \ge 0` or :math:`c(a) = 0`.

    Built by :meth:`Engine.side_constraints` from PyMC-Marketing
    ``Constraint`` objects. ``linear`` says, per constraint, whether its
    Jacobian provably does not depend on the plan (read off the graph): the
    certificates hold exactly only when every constraint is linear.
    """

    keys: tuple[str, ...]
    kinds: tuple[str, ...]
    functions: tuple[Callable, ...]
    linear: tuple[bool, ...]
    #: The optimizer's total budget, which constraint graphs may read.
    budget: SharedVariable

    def evaluate(self, a: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values, Jacobian (rows x cells) and equality flags at ``a``, budget ``total``."""
        previous = self.budget.get_value()
        self.budget.set_value(np.asarray(total, dtype="float64"))
        try:
            outputs = [fn(np.asarray(a, dtype="float64")) for fn in self.functions]
        finally:
            self.budget.set_value(previous)
        values, rows, equal = [], [], []
        for kind, (value, jacobian) in zip(self.kinds, outputs, strict=True):
            value = np.atleast_1d(np.asarray(value, dtype=float))
            values.append(value)
            rows.append(np.asarray(jacobian, dtype=float).reshape(value.size, -1))
            equal.append(np.full(value.size, kind == "eq"))
        return np.concatenate(values), np.vstack(rows), np.concatenate(equal)

    @property
    def nonlinear(self) -> list[str]:
        """Keys of the constraints that are not (provably) linear."""
        return [k for k, lin in zip(self.keys, self.linear, strict=True) if not lin]


@dataclass(frozen=True)
class Polytope:
    r"""The feasible plans :math:`\{a : \sum a = B,\ l \le a \le u\}`, flat over cells.

    Parameters
    ----------
    lower, upper : numpy.ndarray
        Bounds per cell.
    total : float
        Budget :math:`B`.

    Examples
    --------
    >>> box = Polytope(np.zeros(3), np.full(3, 60.0), 100.0)
    >>> box.linear_min(np.array([3.0, 1.0, 2.0])).tolist()
    [0.0, 60.0, 40.0]
    """

    lower: np.ndarray
    upper: np.ndarray
    total: float
    side: SideConstraints | None = None

    @property
    def scale(self) -> float:
        """Spend per cell of an even split: the unit of the solver's variables."""
        return self.total / self.lower.size

    @property
    def exact(self) -> bool:
        """Whether the feasible set is a polytope: no constraint, or only linear ones.

        With a nonlinear constraint the set is linearised at the plan checked,
        which gives a first-order measure but no bound.
        """
        return self.side is None or not self.side.nonlinear

    def side_rows(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the side constraints linearised at ``at``: ``G y >= h``, ``=`` where ``equal``.

        Each row is divided by its largest entry times :attr:`scale`, so that ``G * scale``
        is of order one in any unit of spend (the LPs below solve in those units).
        """
        values, jacobian, equal = self.side.evaluate(at, self.total)
        norm = np.abs(jacobian).max(axis=1) * self.scale
        norm = np.where(norm > 0, norm, 1.0)[:, None]
        return jacobian / norm, (jacobian @ at - values) / norm[:, 0], equal

    def linear_min(self, cost: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """Return a vertex minimising ``cost @ y``: fill the cheapest cells first.

        With side constraints, the vertex of the LP over the polytope cut by the
        constraints linearised at ``at`` (exact for linear ones); if that LP has
        no solution, the vertex of the polytope without them (a relaxation: any
        bound computed from it still holds).
        """
        if self.side is not None:
            y = self._linear_min_side(cost, self.start() if at is None else at)
            if y is not None:
                return y
        y = self.lower.astype(float).copy()
        left = self.total - y.sum()
        for i in np.argsort(cost, kind="stable"):
            if left <= 0:  # rounding can leave the lower bounds a hair over the budget
                break
            step = min(self.upper[i] - self.lower[i], left)
            y[i] += step
            left -= step
        return y

    def _linear_min_side(self, cost: np.ndarray, at: np.ndarray) -> np.ndarray | None:
        rows, h, equal = self.side_rows(at)
        s = self.scale
        # In units of `scale` (z = y / s): G s z >= h, sum z = total / s.
        lp = linprog(
            cost / max(float(np.abs(cost).max()), np.finfo(float).tiny),
            A_ub=-rows[~equal] * s if (~equal).any() else None,
            b_ub=-h[~equal] if (~equal).any() else None,
            A_eq=np.vstack([np.ones(self.lower.size), rows[equal] * s]),
            b_eq=np.append(self.total / s, h[equal]),
            bounds=list(zip(self.lower / s, self.upper / s, strict=True)),
        )
        return _clip(lp.x * s, self) if lp.status == 0 else None

    def start(self) -> np.ndarray:
        """Return lower bounds plus the remaining budget shared pro rata to each cell's room.

        With side constraints, the feasible plan nearest to that one.
        """
        room = self.upper - self.lower
        if room.sum() <= 0:  # the bounds fix the plan
            return self.lower.astype(float)
        even = self.lower + (self.total - self.lower.sum()) * room / room.sum()
        return even if self.side is None else self.project(even)

    def project(self, a: np.ndarray) -> np.ndarray:
        """Return the feasible plan nearest to ``a`` (Euclidean projection).

        With side constraints, SLSQP's (a local projection if one is nonlinear).
        """
        a = np.asarray(a, dtype=float)
        if self.side is None:
            return _project(self, a)
        s = self.scale

        def distance(z):
            return 0.5 * float(((z - a / s) ** 2).sum()), z - a / s

        fit = _slsqp(distance, _project(self, a) / s, self, {"ftol": 1e-14, "maxiter": 500})
        return _clip(fit.x * s, self)

    def violation(self, a: np.ndarray) -> float:
        """Largest breach of the budget, a bound or a side constraint, relative to the budget."""
        breach = max(
            abs(float(a.sum()) - self.total),
            float(np.max(self.lower - a, initial=0.0)),
            float(np.max(a - self.upper, initial=0.0)),
        )
        if self.side is not None:
            values, _, equal = self.side.evaluate(a, self.total)
            breach = max(breach, float(np.max(np.where(equal, np.abs(values), -values), initial=0)))
        return breach / self.total

    def frank_wolfe_gap(self, a: np.ndarray, gradient: np.ndarray) -> float:
        r""":math:`\max_{y} \nabla f^\top (y - a)`: zero at a maximiser's KKT point."""
        return float(gradient @ (self.linear_min(-gradient, at=a) - a))

    def minimax_lower_bound(
        self, a: np.ndarray, phi: np.ndarray, jacobian: np.ndarray
    ) -> tuple[float, np.ndarray]:
        r"""Lower bound of :math:`\min_y \max_m \phi_m(y)` from the linearisation at ``a``.

        For convex :math:`\phi_m`, :math:`\phi_m(y) \ge \phi_m(a) + J_m (y - a)`,
        so for any weights :math:`w` on the simplex

        .. math::

            \min_y \max_m \phi_m(y) \ge \sum_m w_m \phi_m(a)
            + \min_{y \in P} \Big(\sum_m w_m J_m\Big)(y - a),

        a bound computed exactly by :meth:`linear_min`. The weights are the
        multipliers of the linearised minimax LP (HiGHS), which make the bound
        tight at the optimum (Lagrangian duality).

        Returns
        -------
        bound : float
        weights : numpy.ndarray
        """
        n, m = a.size, phi.size
        s = self.scale
        # Variables (dz, t); minimise t s.t. phi + J s dz <= t, sum dz = (B - sum a) / s.
        cost = np.zeros(n + 1)
        cost[-1] = 1.0
        a_ub = np.hstack([jacobian * s, -np.ones((m, 1))])
        b_ub = -phi
        a_eq = np.append(np.ones(n), 0.0)[None, :]
        b_eq = [(self.total - a.sum()) / s]
        bounds = [*zip((self.lower - a) / s, (self.upper - a) / s, strict=True), (None, None)]
        if self.side is not None:  # G (a + s dz) >= h, linearised at a
            rows, h, equal = self.side_rows(a)
            pad = np.zeros((rows.shape[0], 1))
            cut = np.hstack([rows * s, pad])
            a_ub = np.vstack([a_ub, -cut[~equal]])
            b_ub = np.append(b_ub, (rows @ a - h)[~equal])
            a_eq = np.vstack([a_eq, cut[equal]])
            b_eq = np.append(b_eq, (h - rows @ a)[equal])
        lp = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds)
        if lp.status == 0:
            weights = np.clip(-lp.ineqlin.marginals[:m], 0.0, None)
        else:
            weights = np.zeros(m)
        weights = weights / weights.sum() if weights.sum() > 0 else np.eye(m)[np.argmax(phi)]
        combined = weights @ jacobian
        bound = float(weights @ phi + combined @ (self.linear_min(combined, at=a) - a))
        return bound, weights


@dataclass(frozen=True)
class Criterion:
    """A per-view number computed from that view's response draws.

    Parameters
    ----------
    name : str
        Identifies the compiled functions (e.g. ``"value"``).
    build : callable
        ``build(samples, view_index) -> XTensorVariable`` with ``samples`` of dims
        ``("sample", "view")`` (one view) and a result of dims ``("view",)``.
    """

    name: str
    build: Callable[[XTensorVariable, int], XTensorVariable]
    #: Returns a value that changes whenever the parameters the criterion reads
    #: change (e.g. its objective's :meth:`~pymc_robust_alloc.objectives.RegretObjective.using`):
    #: evaluations are remembered under it.
    state: Callable[[], object] = int


@dataclass
class Solve:
    """One optimisation: the plan, SciPy's verdict and the independent checks."""

    plan: np.ndarray
    objective: float
    scipy_success: bool
    message: str
    iterations: int
    evaluations: int
    violation: float
    first_order: float
    tolerance: float
    certified: bool = False
    bound: float = float("nan")
    starts: int = 1
    local_optima: int = 1
    spread: float = 0.0

    @property
    def gap(self) -> float:
        """Distance from the objective to the proven bound (NaN without a certificate)."""
        return abs(self.bound - self.objective) if self.certified else float("nan")

    @property
    def converged(self) -> bool:
        """SciPy converged, the plan is feasible and first order is met."""
        return (
            self.scipy_success
            and self.violation <= FEASIBILITY
            and np.isfinite(self.first_order)
            and self.first_order <= self.tolerance
        )


class Engine:
    """Per-view criteria compiled with their gradients on a ``BudgetOptimizer``'s graph.

    Parameters
    ----------
    optimizer : callable
        Returns the ``BudgetOptimizer`` built on the merged views, whose decision
        vector is the flat spend per cell; called the first time a graph is
        needed (never when every function came from :func:`disk_cached`).
    responses : sequence of str
        The response deterministic of each view in the optimizer's model.
    mode : pytensor Mode
        Compilation mode.
    n_cells : int
        Number of budget cells (the length of the flat plan).
    n_draws : int
        Number of draws per view (sizes the batches of :meth:`values`).
    factor : float, default 1
        Multiplier of every response (periods folded into one, see
        :class:`~pymc_robust_alloc.RobustAllocator`).
    separable : bool, default False
        Every view's response is a sum over budget cells of a function of that
        cell's spend: certificates are then Lagrangian bounds solved cell by
        cell (:meth:`lagrangian_bound`), tight to rounding.
    """

    #: SLSQP settings; objectives are of order one, so the tolerance is relative.
    OPTIONS: dict = {"ftol": 1e-13, "maxiter": 500}  # noqa: RUF012
    #: A maximisation's SLSQP tolerance: its evaluations are of fewer views, so tighter.
    MAXIMISE_FTOL = 1e-12
    #: Tolerance of a duality gap (a separable, concave problem's certificate).
    CERTIFIED_TOL = 1e-9
    #: Tolerance of a first-order measure (a linearised gap: first order in the
    #: distance to the optimum, so looser).
    FIRST_ORDER_TOL = 1e-5
    #: Evaluations remembered (see :meth:`evaluate`).
    MEMORY = 512
    #: Largest array (plans x draws x cells) of one call of a batched function.
    BATCH = 2**21

    def __init__(
        self,
        optimizer: Callable[[], Any],
        responses: Sequence[str],
        mode: Mode,
        n_cells: int,
        n_draws: int,
        factor: float = 1.0,
        *,
        separable: bool = False,
    ) -> None:
        self._build_optimizer = optimizer
        self.response_names = tuple(responses)
        self.separable = separable
        self.mode = mode
        self.n_cells = int(n_cells)
        #: Plans per call of a batched function: about :data:`BATCH` numbers per array.
        self.batch_rows = max(1, self.BATCH // (int(n_draws) * self.n_cells))
        self.factor = float(factor)
        self._functions: dict[tuple, Callable] = {}  # (criterion, view[, kind])
        self._shelf: dict[tuple, bytes] = {}  # pickled functions, loaded at first use
        self._parameters: dict[str, SharedVariable] = {}
        self._memory: dict[tuple, tuple[float, np.ndarray]] = {}
        #: Functions compiled by this engine (not loaded): see :attr:`functions`.
        self.compiled = 0
        self.options = dict(self.OPTIONS)
        self.evaluations = 0

    @functools.cached_property
    def optimizer(self):
        """The ``BudgetOptimizer`` whose response graphs the criteria are built on."""
        return self._build_optimizer()

    @functools.cached_property
    def _flat(self) -> XTensorVariable:
        return self.optimizer.optimization_variables.flat

    @functools.cached_property
    def _responses(self) -> list[XTensorVariable]:
        return [self.optimizer.extract_response_distribution(r) for r in self.response_names]

    @property
    def n_views(self) -> int:
        """Number of views."""
        return len(self.response_names)

    def graph(self, criterion: Criterion, m: int) -> XTensorVariable:
        """View ``m``'s criterion as a graph of the flat spend (``("view",)``, one entry)."""
        samples = (self._responses[m] * self.factor).expand_dims("view")
        return criterion.build(samples.transpose("sample", "view"), m)

    def cache_key(self, inputs: str | None) -> str | None:
        """Disk-cache key of this engine's functions on the model digested in ``inputs``.

        ``None`` (no disk cache) without ``inputs`` or outside :func:`python_mode`:
        compiled backends keep their own caches.
        """
        if inputs is None or not _is_python_mode(self.mode):
            return None
        rewrites = self.mode.provided_optimizer
        settings = (
            inputs,
            self.response_names,
            self.n_cells,
            self.factor,
            self.separable,
            sorted(rewrites.include),
            sorted(rewrites.exclude),
        )
        return hashlib.sha256(repr(settings).encode()).hexdigest()

    def shelve(self, parameters: dict[str, SharedVariable]) -> dict[tuple, bytes]:
        """Every function, pickled apart from the ``parameters`` it reads (see :meth:`unshelve`).

        Functions already on the shelf stay as they are. A ``Blockwise`` op
        (e.g. an MMM's adstock convolution) keeps a closure per node, which
        cannot be pickled and which it rebuilds at its next call: it is dropped.
        A function that still cannot be pickled is left out (compiled again by
        the next process that needs it).
        """
        refs = _references(parameters)
        shelf = dict(self._shelf)
        for key, fn in self._functions.items():
            for node in fn.maker.fgraph.apply_nodes:
                if isinstance(node.op, Blockwise):
                    node.tag.__dict__.pop("gufunc", None)
            buffer = io.BytesIO()
            try:
                _ParameterPickler(buffer, refs).dump(fn)
            except Exception:  # e.g. an op holding a closure: compiled again when needed
                continue
            shelf[key] = buffer.getvalue()
        return shelf

    def unshelve(self, shelf: dict[tuple, bytes], parameters: dict[str, SharedVariable]) -> None:
        """Take functions shelved by :meth:`shelve`, to be loaded at their first use.

        A loaded function reads ``parameters`` (by name), the objectives' own
        shared variables, so one function at a time loads, only when needed.
        """
        self._shelf = dict(shelf)
        self._parameters = dict(parameters)

    def _cached(self, key: tuple, make: Callable[[], Callable]) -> Callable:
        """Return the function under ``key``: loaded, from the shelf, or ``make()`` (compiled)."""
        if key not in self._functions:
            shelved = self._shelf.pop(key, None)
            fn = None
            if shelved is not None:
                try:  # linked as when compiled (in python_mode, no C linker at all)
                    with self._compiling():
                        fn = _ParameterUnpickler(io.BytesIO(shelved), self._parameters).load()
                except Exception:  # an unreadable function is compiled again
                    fn = None
            if fn is None:
                fn = make()
                self.compiled += 1
            self._functions[key] = fn
        return self._functions[key]

    def _function(self, criterion: Criterion, m: int) -> Callable:
        """View ``m``'s compiled ``criterion`` and its gradient: ``x -> [value, gradient]``."""

        def make():
            value = self._value_graph(criterion, m)
            # A view whose response ignores spend has a zero gradient, not an error.
            value = value + 0.0 * self._flat.values.sum()
            gradient = pt.grad(value, self._flat)
            with self._compiling():
                fn = pytensor.function([self._flat], [value, gradient], mode=self.mode)
            fn.trust_input = True
            return fn

        return self._cached((criterion.name, m), make)

    def _batch_function(self, criterion: Criterion, m: int) -> Callable:
        """View ``m``'s compiled ``criterion`` over a batch of plans: ``X (k, cells) -> (k,)``.

        One call runs each op once for every plan: in :func:`python_mode` an
        op's overhead outweighs its arithmetic, so this is several times
        cheaper than a call per plan.
        """

        def make():
            value = self._value_graph(criterion, m)
            entries = [
                v
                for v in ancestors([value])
                if v.owner is not None and self._flat in v.owner.inputs
            ]
            plans = pt.matrix("plans", shape=(None, self.n_cells))
            if entries:
                batched = vectorize_graph(value, dict.fromkeys(entries, plans))
            else:  # the view's value does not depend on the plan
                batched = pt.alloc(value, plans.shape[0])
            with self._compiling():
                fn = pytensor.function([plans], batched, mode=self.mode, on_unused_input="ignore")
            fn.trust_input = True
            return fn

        return self._cached((criterion.name, m, "batch"), make)

    def _value_graph(self, criterion: Criterion, m: int) -> Variable:
        """View ``m``'s criterion lowered to a tensor graph of the flat plan."""
        value = rewrite_graph(
            self.graph(criterion, m).values[0],
            include=("lower_xtensor", "canonicalize", "stabilize"),
        )
        return _without_full_scatter(value)

    def _compiling(self):
        """In :func:`python_mode`, keep inner graphs from linking C code too."""
        if _is_python_mode(self.mode):
            return pytensor.config.change_flags(mode=self.mode, cxx="")
        return pytensor.config.change_flags(mode=self.mode)

    def side_constraints(self, constraints: Sequence) -> SideConstraints:
        """Compile PyMC-Marketing ``Constraint`` objects on the optimizer's decision variables.

        Each ``constraint_fun(budgets, total_budget, optimizer)`` is called as
        ``BudgetOptimizer`` calls it; its value and Jacobian in the flat plan
        are compiled together, and its linearity is read off the Jacobian's
        graph (no dependence on the plan).
        """
        optimizer = self.optimizer
        functions, linear = [], []
        for constraint in constraints:
            out = constraint.constraint_fun(optimizer._budgets, optimizer._total_budget, optimizer)
            value = rewrite_graph(
                getattr(out, "values", out),
                include=("lower_xtensor", "canonicalize", "stabilize"),
            )
            value = pt.as_tensor_variable(value)
            total = value.sum() + 0.0 * self._flat.values.sum()
            jacobian = (
                pt.grad(total, self._flat)
                if value.ndim == 0
                else pytensor.gradient.jacobian(value.ravel(), self._flat)
            )
            jacobian = getattr(jacobian, "values", jacobian)
            with self._compiling():
                fn = pytensor.function(
                    [self._flat], [value, jacobian], mode=self.mode, on_unused_input="ignore"
                )
            functions.append(fn)
            linear.append(not _depends_on(fn, 1))
        return SideConstraints(
            keys=tuple(c.key for c in constraints),
            kinds=tuple(c.constraint_type for c in constraints),
            functions=tuple(functions),
            linear=tuple(linear),
            budget=optimizer._total_budget,
        )

    def compile(self, criterion: Criterion) -> None:
        """Compile ``criterion`` for every view now rather than at its first use.

        Each function is called once: a compiled backend loads or builds its
        machine code at the first call, which belongs to building, not solving.
        """
        zero = np.zeros(self.n_cells)
        for m in range(self.n_views):
            self._function(criterion, m)(zero)
            if _is_python_mode(self.mode):
                self._batch_function(criterion, m)(zero[None])

    def values(self, criterion: Criterion, plans: np.ndarray) -> np.ndarray:
        """Criterion values of many plans (rows of ``plans``) per view: plans x views.

        In :func:`python_mode`, no gradients and one call per view for all the
        plans (see :meth:`_batch_function`).
        """
        x = np.atleast_2d(np.asarray(plans, dtype="float64"))
        if not _is_python_mode(self.mode):  # compiled code has no per-op overhead to share
            return np.array([self.evaluate(criterion, a)[0] for a in x])
        chunks = [x[i : i + self.batch_rows] for i in range(0, len(x), self.batch_rows)]
        return np.stack(
            [
                np.concatenate([self._batch_function(criterion, m)(c) for c in chunks])
                for m in range(self.n_views)
            ],
            1,
        )

    def evaluate(
        self, criterion: Criterion, a: np.ndarray, views: Sequence[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Criterion values (per view) and their gradients (views x cells) at plan ``a``.

        The last :data:`MEMORY` evaluations are remembered by criterion, its
        :attr:`Criterion.state`, view and plan: the tables of values that follow
        the solves read the values the solves ended on.
        """
        views = range(self.n_views) if views is None else views
        x = np.asarray(a, dtype="float64")
        prefix = (criterion.name, criterion.state(), x.tobytes())
        values, gradients = [], []
        for m in views:
            key = (*prefix, m)
            if key not in self._memory:
                if len(self._memory) >= self.MEMORY:
                    self._memory.clear()
                value, gradient = self._function(criterion, m)(x)
                self._memory[key] = (float(value), np.asarray(gradient))
            value, gradient = self._memory[key]
            values.append(value)
            gradients.append(gradient)
        self.evaluations += 1
        return np.array(values), np.array(gradients)

    def responses(self, m: int, a: np.ndarray) -> np.ndarray:
        """View ``m``'s response per draw at plan ``a`` (no gradient: compiles lighter)."""

        def make():
            response = (self._responses[m] * self.factor).values
            with self._compiling():
                return pytensor.function(
                    [self._flat], response, mode=self.mode, on_unused_input="ignore"
                )

        return np.asarray(self._cached(("responses", m), make)(np.asarray(a, float)))

    def draws(self, m: int, a: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """View ``m``'s response per draw at plan ``a``, and the gradient of ``weights @ it``."""

        def make():
            response = (self._responses[m] * self.factor).values
            weights_in = pt.vector("draw_weights")
            cost = rewrite_graph(
                (response * weights_in).sum(), include=("lower_xtensor", "canonicalize")
            )
            gradient = pt.grad(cost + 0.0 * self._flat.values.sum(), self._flat)
            with self._compiling():
                return pytensor.function(
                    [self._flat, weights_in], [response, gradient], mode=self.mode
                )

        fn = self._cached(("draws", m), make)
        response, gradient = fn(np.asarray(a, float), weights)
        return np.asarray(response), np.asarray(gradient)

    def lagrangian_bound(
        self, criterion: Criterion, coefficients: np.ndarray, box: Polytope, plan: np.ndarray
    ) -> float:
        r"""Upper bound of :math:`\max_{a \in P} f(a)`, :math:`f = \sum_m c_m \psi_m`, cell by cell.

        Valid when every :math:`\psi_m` with :math:`c_m > 0` is concave and
        separable over cells (:math:`f = \sum_c f_c(a_c)`): for any multiplier
        :math:`\mu` of the budget and any :math:`x` in the box,

        .. math::

            \max_{a \in P} f(a) \le \mu B + \sum_c \max_{x_c}\, [f_c(x_c) - \mu x_c]
            \le \mu B + f(x) - \mu \textstyle\sum_c x_c
            + \sum_c \max\big(d_c (l_c - x_c),\ d_c (u_c - x_c)\big),

        :math:`d_c = f_c'(x_c) - \mu`, by weak duality and the tangent bound of a
        concave function. :math:`\mu` is the marginal value shared by the
        plan's interior cells and :math:`x` solves :math:`f_c'(x_c) = \mu` in
        each cell's interval (a vectorised safeguarded secant search), so the
        bound is tight to rounding at an optimal plan.
        """
        views = [m for m, c in enumerate(coefficients) if c != 0]
        c = np.asarray(coefficients, float)[views]

        def derivative(x):
            return self._combined(criterion, c, views, x)

        f, g = derivative(plan)
        inside = (plan > box.lower + 1e-12 * box.scale) & (plan < box.upper - 1e-12 * box.scale)
        mu = float(np.median(g[inside])) if inside.any() else float(np.median(g))
        lo, hi = box.lower.astype(float), box.upper.astype(float)
        d_lo, d_hi = derivative(lo)[1] - mu, derivative(hi)[1] - mu
        # A cell whose marginal value is below mu everywhere sits at its lower
        # bound, one above mu everywhere at its upper bound; others have a root.
        low, high = d_lo <= 0, (d_hi >= 0) & (d_lo > 0)
        x = np.where(low, lo, np.where(high, hi, np.clip(plan, lo, hi)))
        f, g = derivative(x)
        previous = None
        for _ in range(60):
            d = g - mu
            if _tangent(d, x, box).sum() <= 1e-15 * max(abs(f), 1e-300):
                break
            lo, d_lo = np.where(d > 0, x, lo), np.where(d > 0, d, d_lo)
            hi, d_hi = np.where(d < 0, x, hi), np.where(d < 0, d, d_hi)
            # Secant through the last two iterates (else the bracket), kept inside
            # the bracket; bisection when it falls out.
            x0, d0 = previous if previous is not None else (lo, d_lo)
            x1, d1 = (x, d) if previous is not None else (hi, d_hi)
            secant = x1 + d1 * (x1 - x0) / np.where(d0 != d1, d0 - d1, np.inf)
            step = np.where((secant > lo) & (secant < hi), secant, 0.5 * (lo + hi))
            step = np.where(low, box.lower, np.where(high, box.upper, np.where(d == 0, x, step)))
            if np.array_equal(step, x):
                break
            previous = (x, d)
            x = step
            f, g = derivative(x)
        return float(f - mu * x.sum() + _tangent(g - mu, x, box).sum() + mu * box.total)

    def maximise(
        self,
        criterion: Criterion,
        coefficients: np.ndarray,
        box: Polytope,
        start: np.ndarray,
        *,
        concave: bool,
    ) -> Solve:
        r"""Maximise :math:`\sum_m c_m \psi_m(a)` over the polytope from ``start``."""
        views = [m for m, c in enumerate(coefficients) if c != 0]
        c = np.asarray(coefficients, float)[views]
        s = box.scale
        level = abs(self._combined(criterion, c, views, start)[0]) or 1.0

        def fun(z):
            f, g = self._combined(criterion, c, views, z * s)
            return -f / level, -g * s / level

        fit = _slsqp(fun, start / s, box, {**self.options, "ftol": self.MAXIMISE_FTOL})
        plan = _clip(fit.x * s, box)
        certified = concave and bool(np.all(c >= 0)) and box.exact
        f, first_order, bound = self.maximise_check(
            criterion, coefficients, box, plan, certified=certified
        )
        return self._record(fit, box, plan, f, first_order, bound, certified)

    def _record(self, fit, box, plan, objective, first_order, bound, certified) -> Solve:
        """Record SciPy's result and the checks made at ``plan`` as a :class:`Solve`."""
        tight = certified and self.separable and box.side is None
        tolerance = self.CERTIFIED_TOL if tight else self.FIRST_ORDER_TOL
        return Solve(
            plan=plan,
            objective=objective,
            scipy_success=bool(fit.success),
            message=str(fit.message),
            iterations=int(fit.nit),
            evaluations=int(fit.nfev),
            violation=box.violation(plan),
            first_order=first_order,
            tolerance=tolerance,
            certified=certified,
            bound=bound,
        )

    def _combined(self, criterion, c, views, a) -> tuple[float, np.ndarray]:
        values, gradients = self.evaluate(criterion, a, views)
        return float(c @ values), c @ gradients

    def maximise_check(
        self,
        criterion: Criterion,
        coefficients: np.ndarray,
        box: Polytope,
        plan: np.ndarray,
        *,
        certified: bool = False,
    ) -> tuple[float, float, float]:
        """Objective, relative optimality measure and an upper bound at ``plan``.

        The measure is the gap to the bound, relative to the objective: the
        Frank-Wolfe gap (``f + gap`` bounds the optimum of a concave objective),
        or, for a ``certified`` separable objective, the tighter
        :meth:`lagrangian_bound`.
        """
        views = [m for m, c in enumerate(coefficients) if c != 0]
        c = np.asarray(coefficients, float)[views]
        f, g = self._combined(criterion, c, views, plan)
        bound = f + box.frank_wolfe_gap(plan, g)
        if certified and self.separable and box.side is None:
            bound = min(bound, self.lagrangian_bound(criterion, coefficients, box, plan))
        return f, max(bound - f, 0.0) / max(abs(f), 1e-300), bound

    def minimax(
        self,
        criterion: Criterion,
        offset: np.ndarray,
        slope: np.ndarray,
        box: Polytope,
        start: np.ndarray,
        *,
        convex: bool,
    ) -> Solve:
        r"""Minimise :math:`\max_m (\alpha_m + \beta_m \psi_m(a))` in epigraph form."""
        s = box.scale
        n = start.size
        cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

        def phi(a):
            key = a.tobytes()
            if key not in cache:
                cache.clear()
                cache[key] = self._affine(criterion, offset, slope, a)
            return cache[key]

        def objective(v):
            grad = np.zeros(n + 1)
            grad[-1] = 1.0
            return v[-1], grad

        def constraint(v):
            return v[-1] - phi(v[:-1] * s)[0]

        def constraint_jac(v):
            return np.hstack([-phi(v[:-1] * s)[1] * s, np.ones((offset.size, 1))])

        v0 = np.append(start / s, phi(start)[0].max())
        fit = _slsqp(
            objective,
            v0,
            box,
            self.options,
            extra=({"type": "ineq", "fun": constraint, "jac": constraint_jac},),
        )
        plan = _clip(fit.x[:-1] * s, box)
        certified = convex and box.exact
        worst, first_order, bound = self.minimax_check(
            criterion, offset, slope, box, plan, certified=certified
        )
        return self._record(fit, box, plan, worst, first_order, bound, certified)

    def _affine(self, criterion, offset, slope, a) -> tuple[np.ndarray, np.ndarray]:
        values, gradients = self.evaluate(criterion, a)
        return offset + slope * values, slope[:, None] * gradients

    def minimax_check(
        self,
        criterion: Criterion,
        offset: np.ndarray,
        slope: np.ndarray,
        box: Polytope,
        plan: np.ndarray,
        *,
        certified: bool = False,
    ) -> tuple[float, float, float]:
        r"""Max objective, its gap to a lower bound, and that bound, at ``plan``.

        The bound is that of the linearised problem
        (:meth:`Polytope.minimax_lower_bound`), a lower bound of the optimum
        when every objective is convex; for a ``certified`` separable problem,
        also the Lagrangian bound with the same weights :math:`w`:
        :math:`\sum_m w_m \alpha_m - \max_{a \in P} \sum_m (-w_m \beta_m) \psi_m(a)`
        (:meth:`lagrangian_bound`), whichever is higher.
        """
        values, jacobian = self._affine(criterion, offset, slope, plan)
        bound, weights = box.minimax_lower_bound(plan, values, jacobian)
        worst = float(values.max())
        if certified and self.separable and box.side is None and np.all(slope <= 0):
            # Slack objectives have no multiplier at the optimum (complementary
            # slackness); the LP may give them a trace that loosens the bound.
            weights = np.where(values >= worst - self.FIRST_ORDER_TOL, weights, 0.0)
            weights = weights / weights.sum()
            upper = self.lagrangian_bound(criterion, -weights * slope, box, plan)
            bound = max(bound, float(weights @ offset) - upper)
        # The plan's own max bounds the optimum from above: a lower bound above it
        # is rounding.
        bound = min(bound, worst)
        return worst, worst - bound, bound


def best_of(solves: Sequence[Solve], minimise: bool) -> Solve:
    """Return the best converged solve (else the best), with the multistart summary on it.

    Local optima are counted as distinct when their objectives differ by more
    than ``1e-7`` relative.
    """
    sign = 1.0 if minimise else -1.0
    pool = [s for s in solves if s.converged] or list(solves)
    best = min(pool, key=lambda s: sign * s.objective)
    objectives = np.sort([s.objective for s in pool])
    distinct = 1 + int(np.sum(np.diff(objectives) > 1e-7 * max(1.0, np.abs(objectives).max())))
    best.starts = len(solves)
    best.local_optima = distinct
    best.spread = float(objectives[-1] - objectives[0])
    return best


def multistart_points(box: Polytope, known: Sequence[np.ndarray], n_random: int, seed: int):
    """Return starts for a non-convex solve: known plans, vertices, random points.

    The vertices fill one cell to its upper bound first (one per cell, at most
    ``n_random`` of them); random points are Dirichlet shares of the room above
    the lower bounds, projected into the box. Seeded.
    """
    rng = np.random.default_rng(seed)
    points = [np.asarray(p, float) for p in known if box.violation(np.asarray(p, float)) <= 1e-9]
    n = box.lower.size
    for i in rng.permutation(n)[: max(n_random // 2, 1)]:
        cost = np.ones(n)
        cost[i] = 0.0
        points.append(box.linear_min(cost))
    room = box.total - box.lower.sum()
    for _ in range(n_random):
        points.append(_project(box, box.lower + room * rng.dirichlet(np.ones(n))))
    return points


def _project(box: Polytope, a: np.ndarray) -> np.ndarray:
    """Euclidean projection onto the polytope (bisection on the budget's multiplier)."""
    lo, hi = float((a - box.upper).min()), float((a - box.lower).max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.clip(a - mid, box.lower, box.upper).sum() > box.total:
            lo = mid
        else:
            hi = mid
    return np.clip(a - 0.5 * (lo + hi), box.lower, box.upper)


def _references(parameters: dict[str, SharedVariable]) -> dict[int, tuple[str, str]]:
    """Return persistent ids of shared variables, their containers and values, by name."""
    refs = {}
    for name, variable in parameters.items():
        # A function shares the variable's storage list (its own containers wrap it).
        refs[id(variable)] = ("variable", name)
        refs[id(variable.container)] = ("container", name)
        refs[id(variable.container.storage)] = ("storage", name)
        refs[id(variable.container.storage[0])] = ("value", name)
    return refs


class _ParameterPickler(pickle.Pickler):
    """Pickle a compiled function without the parameters it reads: by name instead."""

    def __init__(self, file, refs: dict[int, tuple[str, str]]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.refs = refs

    def persistent_id(self, obj):
        return self.refs.get(id(obj))


class _ParameterUnpickler(pickle.Unpickler):
    """Load a function pickled by :class:`_ParameterPickler` onto live parameters."""

    def __init__(self, file, parameters: dict[str, SharedVariable]) -> None:
        super().__init__(file)
        self.parameters = parameters

    def persistent_load(self, pid):
        kind, name = pid
        variable = self.parameters[name]
        if kind == "variable":
            return variable
        if kind == "container":
            return variable.container
        if kind == "storage":
            return variable.container.storage
        return variable.container.storage[0]


def _without_full_scatter(graph: Variable) -> Variable:
    """Replace the setting of every cell of an array (a boolean mask all true) by its values.

    ``BudgetOptimizer`` scatters the flat plan into the budget cells it
    optimises; when those are all the cells, the scatter is the identity, and
    dropping it leaves a graph that vectorises over plans without a ``Blockwise``.
    """
    replacements = {}
    for node in io_toposort([], [graph]):
        if not (isinstance(node.op, AdvancedIncSubtensor) and node.op.set_instead_of_inc):
            continue
        target, values, *indices = node.inputs
        if len(indices) != 1 or not isinstance(indices[0], Constant):
            continue
        mask = np.asarray(indices[0].data)
        shape = target.type.shape
        if (
            mask.dtype == bool
            and mask.shape == shape
            and mask.all()
            and values.type.shape == shape
            and values.type.dtype == target.type.dtype
        ):
            replacements[node.outputs[0]] = values
    return graph_replace(graph, replacements, strict=False) if replacements else graph


def _depends_on(fn, output: int) -> bool:
    """Whether a compiled function's ``output`` depends on its (first) input, after rewriting."""
    graph = fn.maker.fgraph
    return graph.inputs[0] in set(ancestors([graph.outputs[output]]))


def _tangent(d: np.ndarray, x: np.ndarray, box: Polytope) -> np.ndarray:
    """Per cell, the most a concave function can rise above its tangent at ``x`` in the box."""
    return np.maximum(d * (box.lower - x), d * (box.upper - x))


def _clip(a: np.ndarray, box: Polytope) -> np.ndarray:
    """Clip rounding outside the bounds (SLSQP may overshoot by ~1e-16 relative)."""
    return np.clip(a, box.lower, box.upper)


def _slsqp(fun, x0, box: Polytope, options, extra=()):
    """SciPy SLSQP in scaled variables: budget equality, bounds, further constraints."""
    s = box.scale
    n = box.lower.size
    pad = x0.size - n
    budget = {
        "type": "eq",
        "fun": lambda v: v[:n].sum() - box.total / s,
        "jac": lambda v: np.append(np.ones(n), np.zeros(pad)),
    }
    bounds = list(zip(box.lower / s, box.upper / s, strict=True)) + [(None, None)] * pad
    side = [] if box.side is None else _side_constraints(box, pad)

    def run(start, options):
        return minimize(
            fun,
            start,
            jac=True,
            method="SLSQP",
            bounds=bounds,
            constraints=[budget, *side, *extra],
            options=options,
        )

    if np.all(box.upper <= box.lower) and box.side is None:  # the bounds fix the plan
        return OptimizeResult(
            x=x0, success=True, status=0, message="The bounds fix the plan.", nit=0, nfev=0
        )
    fit = run(x0, options)
    # A line search that fails (status 8) near the end: restart the quasi-Newton
    # model, then once more at a looser tolerance, which ends at once if the plan
    # cannot be improved within rounding.
    for ftol in (options.get("ftol", 1e-13), 1e3 * options.get("ftol", 1e-13)):
        if fit.status != 8:
            break
        again = run(fit.x, {**options, "ftol": ftol})
        again.nit += fit.nit
        again.nfev += fit.nfev
        fit = again
    return fit


def _side_constraints(box: Polytope, pad: int) -> list[dict]:
    """Return the side constraints in SLSQP's scaled variables, values relative to the budget."""
    s, n = box.scale, box.lower.size
    cache: dict[bytes, tuple] = {}

    def evaluate(v):
        key = v.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = box.side.evaluate(v[:n] * s, box.total)
        return cache[key]

    def rows(kind_equal: bool):
        def fun(v):
            values, _, equal = evaluate(v)
            return values[equal == kind_equal] / box.total

        def jac(v):
            _, jacobian, equal = evaluate(v)
            rows = jacobian[equal == kind_equal] * s / box.total
            return np.hstack([rows, np.zeros((rows.shape[0], pad))])

        return fun, jac

    constraints = []
    kinds = set(box.side.kinds)
    for kind in ("eq", "ineq"):
        if kind in kinds:
            fun, jac = rows(kind == "eq")
            constraints.append({"type": kind, "fun": fun, "jac": jac})
    return constraints
