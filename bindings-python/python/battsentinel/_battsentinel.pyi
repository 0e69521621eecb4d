"""Type stubs of the native module (checked with ``python -m mypy.stubtest battsentinel``)."""

import os
from typing import IO, Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union

from typing_extensions import final

import numpy as np
import numpy.typing as npt
import pandas as pd

__version__: str
__all__ = [
    "AlertEngine",
    "BattSentinelError",
    "BatteryLog",
    "CellParams",
    "ExplainError",
    "Explanation",
    "FaultDetector",
    "FeatureError",
    "FileError",
    "IsolationForest",
    "KernelExplainer",
    "LimeExplanation",
    "LimeTabularExplainer",
    "MLPClassifier",
    "MLPRegressor",
    "ModelError",
    "NotFittedError",
    "OneClassSVM",
    "ParamError",
    "ParseError",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "RuleError",
    "RuleSet",
    "SVC",
    "SimulationError",
    "Simulator",
    "SocEstimator",
    "ThermalError",
    "TreeExplainer",
    "__version__",
    "_rebuild",
    "analyze_thermal",
    "cycle_summary",
    "dcir_events",
    "detect",
    "dqdv",
    "fit_hppc",
    "incremental_capacity",
    "read",
    "read_summary",
    "read_thermal",
    "simulate",
]

_Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
_ArrayLike = npt.ArrayLike
_FloatArray = npt.NDArray[np.float64]
_IntArray = npt.NDArray[np.int64]

# ---- errors -----------------------------------------------------------------------------------------------

class BattSentinelError(Exception):
    """Base class of every error raised by battsentinel. `code` holds the stable error code."""

    code: str

class ParamError(BattSentinelError, ValueError):
    """Invalid parameters or unknown keyword arguments."""

class ParseError(BattSentinelError, ValueError):
    """A battery data file could not be read."""

class FileError(BattSentinelError, OSError):
    """A file could not be opened or read (an OSError; `errno` and `filename` are set)."""

class FeatureError(BattSentinelError, ValueError):
    """Feature extraction failed (missing channel, too little data, ...)."""

class ModelError(BattSentinelError, ValueError):
    """A model failed to fit or predict (shape, NaN, labels, model file)."""

class NotFittedError(ModelError, AttributeError):
    """The model was used before `fit` (also an AttributeError, as scikit-learn's)."""

class ExplainError(BattSentinelError, ValueError):
    """An explanation failed (shapes, NaN, link domain, a failing model callable)."""

class SimulationError(BattSentinelError, ValueError):
    """The digital-twin simulation failed or got invalid input."""

class RuleError(BattSentinelError, ValueError):
    """An alert rule is invalid or an alert operation failed."""

class ThermalError(BattSentinelError, ValueError):
    """A thermal image could not be decoded or analysed."""

# ---- io ---------------------------------------------------------------------------------------------------

@final
class BatteryLog:
    """A battery time series in library units (s, V, A positive = discharge, °C, Ah, Wh)."""

    def __new__(
        cls,
        time_s: Optional[_ArrayLike] = None,
        voltage_v: Optional[_ArrayLike] = None,
        current_a: Optional[_ArrayLike] = None,
        temperature_c: Optional[_ArrayLike] = None,
    ) -> "BatteryLog": ...
    @staticmethod
    def from_pandas(df: pd.DataFrame) -> "BatteryLog":
        """A log from a DataFrame with the column names of `to_pandas()` (`time_s` required)."""
    @staticmethod
    def from_dict(columns: Dict[str, _ArrayLike]) -> "BatteryLog":
        """A log from a mapping of column name → 1-D array."""
    @staticmethod
    def from_json(text: str) -> "BatteryLog":
        """A log from the JSON of `to_json`."""
    def to_numpy(self) -> Dict[str, np.ndarray]:
        """The columns as a dict of NumPy arrays."""
    def to_pandas(self) -> pd.DataFrame:
        """The columns as a DataFrame; `attrs` holds `meta` and `quality`."""
    def to_json(self) -> str:
        """The log as JSON."""
    @property
    def columns(self) -> List[str]:
        """Column names, in the order of `to_numpy()`."""
    @property
    def time_s(self) -> _FloatArray:
        """Time (s)."""
    @property
    def voltage_v(self) -> Optional[_FloatArray]:
        """Voltage (V)."""
    @property
    def current_a(self) -> Optional[_FloatArray]:
        """Current (A, positive = discharge)."""
    @property
    def temperature_c(self) -> Optional[_FloatArray]:
        """First temperature channel (°C)."""
    @property
    def quality(self) -> Dict[str, Any]:
        """The data-quality report."""
    @property
    def meta(self) -> Dict[str, Any]:
        """Reader metadata."""
    def __len__(self) -> int: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

def read(
    source: _Source, format: Optional[str] = None, mapping: Optional[Mapping[str, Any]] = None, **options: Any
) -> BatteryLog:
    """Reads a battery time series (any supported cycler export)."""

def read_summary(
    source: _Source, format: Optional[str] = None, mapping: Optional[Mapping[str, Any]] = None, **options: Any
) -> pd.DataFrame:
    """Reads a per-cycle summary table as a DataFrame."""

def detect(source: _Source, file_name: Optional[str] = None) -> Dict[str, Any]:
    """Detects the format of a file: `format`, `confidence`, `reason`."""

# ---- features ---------------------------------------------------------------------------------------------

def cycle_summary(log: BatteryLog, **params: Any) -> pd.DataFrame:
    """Per-cycle features, one row per cycle."""

def incremental_capacity(
    log: BatteryLog, cycle: Optional[int] = None, direction: str = "discharge", **params: Any
) -> Dict[str, Any]:
    """dQ/dV of one charge or discharge segment."""

def dqdv(voltage_v: _ArrayLike, capacity_ah: _ArrayLike, direction: str = "discharge", **params: Any) -> Dict[str, Any]:
    """dQ/dV from raw voltage and capacity arrays."""

def dcir_events(log: BatteryLog, **params: Any) -> pd.DataFrame:
    """DCIR of every current step."""

# ---- models -----------------------------------------------------------------------------------------------

class _Estimator:
    _estimator_type: str
    def __new__(cls, **params: Any) -> Any: ...
    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """Hyper-parameters as a dict."""
    def set_params(self, **params: Any) -> Any:
        """Updates hyper-parameters; returns the estimator."""
    def to_json(self) -> str:
        """The fitted model in the core's JSON model format."""
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

@final
class RandomForestClassifier(_Estimator):
    """Random forest classifier (scikit-learn semantics)."""

    @staticmethod
    def from_json(text: str) -> "RandomForestClassifier": ...
    def fit(self, X: _ArrayLike, y: _ArrayLike) -> "RandomForestClassifier": ...
    def predict_proba(self, X: _ArrayLike) -> _FloatArray: ...
    def predict(self, X: _ArrayLike) -> _IntArray: ...
    def score(self, X: _ArrayLike, y: _ArrayLike) -> float: ...
    @property
    def classes_(self) -> _IntArray: ...
    @property
    def n_features_in_(self) -> int: ...
    @property
    def feature_importances_(self) -> _FloatArray: ...
    @property
    def oob_score_(self) -> Optional[float]: ...

@final
class FaultDetector:
    """Battery fault detector: fault probabilities, anomaly score, data checks, SOH and RUL per window."""

    @staticmethod
    def default() -> "FaultDetector": ...
    def analyze(self, log: BatteryLog, **params: Any) -> Dict[str, Any]: ...
    @property
    def feature_names(self) -> List[str]: ...
    @property
    def classes(self) -> List[str]: ...
    @property
    def n_training_windows(self) -> int: ...
    @property
    def classifier(self) -> RandomForestClassifier: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_json(text: str) -> "FaultDetector": ...
    def __reduce__(self) -> Tuple[Any, Tuple[str]]: ...

@final
class RandomForestRegressor(_Estimator):
    """Random forest regressor (scikit-learn semantics)."""

    @staticmethod
    def from_json(text: str) -> "RandomForestRegressor": ...
    def fit(self, X: _ArrayLike, y: _ArrayLike) -> "RandomForestRegressor": ...
    def predict(self, X: _ArrayLike) -> _FloatArray: ...
    def score(self, X: _ArrayLike, y: _ArrayLike) -> float: ...
    @property
    def n_features_in_(self) -> int: ...
    @property
    def feature_importances_(self) -> _FloatArray: ...

@final
class IsolationForest(_Estimator):
    """Isolation forest (scikit-learn conventions)."""

    @staticmethod
    def from_json(text: str) -> "IsolationForest": ...
    def fit(self, X: _ArrayLike, y: Optional[_ArrayLike] = None) -> "IsolationForest": ...
    def score_samples(self, X: _ArrayLike) -> _FloatArray: ...
    def decision_function(self, X: _ArrayLike) -> _FloatArray: ...
    def predict(self, X: _ArrayLike) -> _IntArray: ...
    @property
    def offset_(self) -> float: ...
    @property
    def n_features_in_(self) -> int: ...

@final
class MLPRegressor(_Estimator):
    """Multi-layer perceptron regressor."""

    @staticmethod
    def from_json(text: str) -> "MLPRegressor": ...
    def fit(self, X: _ArrayLike, y: _ArrayLike) -> "MLPRegressor": ...
    def predict(self, X: _ArrayLike) -> _FloatArray: ...
    def score(self, X: _ArrayLike, y: _ArrayLike) -> float: ...
    @property
    def n_iter_(self) -> int: ...
    @property
    def n_features_in_(self) -> int: ...

@final
class MLPClassifier(_Estimator):
    """Multi-layer perceptron classifier."""

    @staticmethod
    def from_json(text: str) -> "MLPClassifier": ...
    def fit(self, X: _ArrayLike, y: _ArrayLike) -> "MLPClassifier": ...
    def predict_proba(self, X: _ArrayLike) -> _FloatArray: ...
    def predict(self, X: _ArrayLike) -> _IntArray: ...
    def score(self, X: _ArrayLike, y: _ArrayLike) -> float: ...
    @property
    def classes_(self) -> _IntArray: ...
    @property
    def n_iter_(self) -> int: ...

@final
class SVC(_Estimator):
    """Support-vector classifier."""

    @staticmethod
    def from_json(text: str) -> "SVC": ...
    def fit(self, X: _ArrayLike, y: _ArrayLike) -> "SVC": ...
    def predict_proba(self, X: _ArrayLike) -> _FloatArray: ...
    def decision_function(self, X: _ArrayLike) -> _FloatArray: ...
    def predict(self, X: _ArrayLike) -> _IntArray: ...
    def score(self, X: _ArrayLike, y: _ArrayLike) -> float: ...
    @property
    def classes_(self) -> _IntArray: ...

@final
class OneClassSVM(_Estimator):
    """One-class SVM for novelty detection."""

    @staticmethod
    def from_json(text: str) -> "OneClassSVM": ...
    def fit(self, X: _ArrayLike, y: Optional[_ArrayLike] = None) -> "OneClassSVM": ...
    def decision_function(self, X: _ArrayLike) -> _FloatArray: ...
    def score_samples(self, X: _ArrayLike) -> _FloatArray: ...
    def predict(self, X: _ArrayLike) -> _IntArray: ...

# ---- explain ----------------------------------------------------------------------------------------------

_Model = Union[_Estimator, Callable[[_FloatArray], Any]]

@final
class Explanation:
    """SHAP attributions of one or many instances."""

    def __new__(cls) -> "Explanation": ...
    @property
    def values(self) -> _FloatArray: ...
    @property
    def base_values(self) -> Union[float, _FloatArray]: ...
    @property
    def model_output(self) -> _FloatArray: ...
    @property
    def data(self) -> _FloatArray: ...
    @property
    def feature_names(self) -> List[str]: ...
    def mean_abs(self, output: int = 0) -> _FloatArray: ...
    def to_svg(self, kind: str = "waterfall", output: int = 0, row: int = 0, max_display: int = 10) -> str: ...
    def _repr_svg_(self) -> str: ...
    def __len__(self) -> int: ...
    def __getitem__(self, i: int, /) -> "Explanation": ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

@final
class KernelExplainer:
    """Kernel SHAP over our models or any callable."""

    def __new__(
        cls,
        model: _Model,
        data: _ArrayLike,
        link: str = "identity",
        feature_names: Optional[Sequence[str]] = None,
        weights: Optional[_ArrayLike] = None,
        **params: Any,
    ) -> "KernelExplainer": ...
    @property
    def expected_value(self) -> Union[float, _FloatArray]: ...
    @property
    def feature_names(self) -> List[str]: ...
    def explain(self, X: _ArrayLike) -> Explanation: ...
    def __call__(self, X: _ArrayLike) -> Explanation: ...
    def shap_values(self, X: _ArrayLike) -> _FloatArray: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

@final
class TreeExplainer:
    """Exact TreeSHAP over our forests: interventional against ``data``, or tree_path_dependent (node covers,
    no ``data``; also gives ``shap_interaction_values``)."""

    def __new__(
        cls,
        model: Union[RandomForestClassifier, RandomForestRegressor],
        data: Optional[_ArrayLike] = None,
        feature_names: Optional[Sequence[str]] = None,
        weights: Optional[_ArrayLike] = None,
        feature_perturbation: Optional[Literal["auto", "interventional", "tree_path_dependent"]] = None,
    ) -> "TreeExplainer": ...
    @property
    def expected_value(self) -> Union[float, _FloatArray]: ...
    @property
    def feature_perturbation(self) -> str: ...
    def shap_interaction_values(self, X: _ArrayLike) -> _FloatArray: ...
    def explain(self, X: _ArrayLike) -> Explanation: ...
    def __call__(self, X: _ArrayLike) -> Explanation: ...
    def shap_values(self, X: _ArrayLike) -> _FloatArray: ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

@final
class LimeExplanation:
    """A LIME explanation."""

    def __new__(cls) -> "LimeExplanation": ...
    def as_list(self, label: Optional[int] = None) -> List[Tuple[str, float]]: ...
    @property
    def local_exp(self) -> Dict[int, List[Tuple[int, float]]]: ...
    @property
    def intercept(self) -> Dict[int, float]: ...
    @property
    def score(self) -> Dict[int, float]: ...
    @property
    def local_pred(self) -> Dict[int, float]: ...
    @property
    def predict_proba(self) -> _FloatArray: ...
    def to_svg(self) -> str: ...
    def _repr_svg_(self) -> str: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

@final
class LimeTabularExplainer:
    """LIME for tabular data."""

    def __new__(
        cls,
        training_data: Optional[_ArrayLike] = None,
        feature_names: Optional[Sequence[str]] = None,
        training_labels: Optional[_ArrayLike] = None,
        **params: Any,
    ) -> "LimeTabularExplainer": ...
    def explain_instance(
        self, data_row: _ArrayLike, predict_fn: _Model, labels: Optional[Sequence[int]] = None
    ) -> LimeExplanation: ...
    def explain_instances(
        self, data: _ArrayLike, predict_fn: _Model, labels: Optional[Sequence[int]] = None
    ) -> List[LimeExplanation]: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

def _rebuild(cls: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any: ...

# ---- twin -------------------------------------------------------------------------------------------------

@final
class CellParams:
    """Thevenin equivalent-circuit cell parameters."""

    def __new__(cls, **fields: Any) -> "CellParams": ...
    @staticmethod
    def ecm_example() -> "CellParams": ...
    @staticmethod
    def ecm_example_const(r0_ohm: float, r1_ohm: float, c1_farad: float) -> "CellParams": ...
    @staticmethod
    def from_json(text: str) -> "CellParams": ...
    def replace(self, **changes: Any) -> "CellParams": ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    @property
    def capacity_ah(self) -> float: ...
    @property
    def n_rc(self) -> int: ...
    @property
    def soc_range(self) -> Tuple[float, float]: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

_Protocol = Union[Mapping[str, Any], str]

def simulate(params: CellParams, protocol: _Protocol) -> pd.DataFrame:
    """Runs a protocol; returns the trace DataFrame."""

@final
class Simulator:
    """A real-time Thevenin cell."""

    def __new__(
        cls, params: Optional[CellParams] = None, soc: float = 1.0, temperature_c: Optional[float] = None
    ) -> "Simulator": ...
    def step(
        self,
        current_a: Optional[float] = None,
        dt_s: float = 1.0,
        voltage_v: Optional[float] = None,
        power_w: Optional[float] = None,
    ) -> Dict[str, Any]: ...
    def run(self, protocol: _Protocol) -> pd.DataFrame: ...
    @property
    def state(self) -> Dict[str, Any]: ...
    def output(self) -> Dict[str, Any]: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

def fit_hppc(log: BatteryLog, **params: Any) -> Dict[str, Any]:
    """Identifies a cell with one or two RC pairs (default 2) from an HPPC log, fitted to the whole test."""

@final
class SocEstimator:
    """SoC estimation with an extended Kalman filter."""

    def __new__(cls, params: CellParams, soc0: float = 0.5, **tuning: float) -> "SocEstimator": ...
    def update(
        self, voltage_v: float, current_a: float, temperature_c: float = 25.0, dt_s: float = 1.0
    ) -> Dict[str, Any]: ...
    def run(self, log: BatteryLog) -> pd.DataFrame: ...
    def snapshot(self) -> Dict[str, Any]: ...
    @classmethod
    def from_snapshot(cls, snapshot: Union[str, Mapping[str, Any]]) -> "SocEstimator": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

# ---- alerts -----------------------------------------------------------------------------------------------

@final
class RuleSet:
    """A validated set of alert rules."""

    def __new__(cls, source: Optional[Union[str, Mapping[str, Any], "RuleSet"]] = None) -> "RuleSet": ...
    @staticmethod
    def default(chemistry: str = "nmc") -> "RuleSet": ...
    @staticmethod
    def from_toml(text: str) -> "RuleSet": ...
    @staticmethod
    def from_json(text: str) -> "RuleSet": ...
    def to_toml(self) -> str: ...
    def to_json(self) -> str: ...
    def with_param(self, name: str, value: float) -> "RuleSet": ...
    def with_profile(self, profile: str) -> "RuleSet": ...
    @property
    def rule_ids(self) -> List[str]: ...
    @property
    def params(self) -> Dict[str, float]: ...
    def __len__(self) -> int: ...
    def __getstate__(self) -> str: ...
    def __setstate__(self, state: str) -> None: ...

@final
class AlertEngine:
    """The alert engine."""

    def __new__(
        cls,
        rules: Optional[Union[RuleSet, str, Mapping[str, Any]]] = None,
        signals: Optional[Sequence[str]] = None,
        **params: Any,
    ) -> "AlertEngine": ...
    def evaluate(self, log: BatteryLog) -> List[Dict[str, Any]]: ...
    def push(self, t_s: float, values: Union[Mapping[str, Optional[float]], Sequence[float]]) -> List[Dict[str, Any]]: ...
    def reset(self) -> None: ...
    @property
    def signals(self) -> List[str]: ...
    @property
    def unbound_signals(self) -> List[str]: ...
    @property
    def active_keys(self) -> List[str]: ...
    @property
    def stats(self) -> Dict[str, int]: ...
    def snapshot(self) -> Dict[str, Any]: ...
    @classmethod
    def from_snapshot(cls, snapshot: Union[str, Mapping[str, Any]]) -> "AlertEngine": ...
    def __reduce__(self) -> Tuple[Any, ...]: ...

# ---- thermal ----------------------------------------------------------------------------------------------

def read_thermal(
    source: Union[_Source, _ArrayLike],
    integer_scale: Optional[Union[str, Mapping[str, float]]] = None,
    colour_scale: Optional[Mapping[str, Any]] = None,
    scene: Optional[Mapping[str, Any]] = None,
) -> _FloatArray:
    """Temperatures (°C) of a thermal image as a (height, width) array."""

def analyze_thermal(
    source: Union[_Source, _ArrayLike],
    integer_scale: Optional[Union[str, Mapping[str, float]]] = None,
    colour_scale: Optional[Mapping[str, Any]] = None,
    scene: Optional[Mapping[str, Any]] = None,
    **params: Any,
) -> Dict[str, Any]:
    """Analyses a thermal image; the report as a dict plus `temperatures_c`."""
