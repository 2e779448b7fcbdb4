"""Why the regression task uses Ridge: candidates on scikit-learn's diabetes data, measured side by side.

For each: held-out MAE, RMSE and R², 5-fold cross-validated R² on the training split, fit time, size,
whether skl2onnx makes a float64 copy onnxruntime runs and how far it is from scikit-learn, and the
time to score one row and 1000 rows. The root README quotes its figures.

    python tools/choose_regressor.py [--json out.json]    # with requirements-dev.txt installed, ~35 s
"""

import json
import pickle
import platform
import statistics
import sys
import time
import timeit
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.ensemble import (
    GradientBoostingRegressor,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SEED = 42
BATCH_ROWS = 1000
CPU = ["CPUExecutionProvider"]
NAN = float("nan")


def scaled(estimator):
    """Linear models are scale-sensitive, so they are measured as the service would ship them: behind a scaler."""
    return Pipeline([("scaler", StandardScaler()), ("model", estimator)])


def bare(estimator):
    """Trees are scale-invariant; a single-step Pipeline keeps the same interface (and `pipe[-1]`) as `scaled`."""
    return Pipeline([("model", estimator)])


# Factories, not instances: cross-validation and the final fit each need a fresh, unfitted pipeline.
CANDIDATES = {
    "LinearRegression": lambda: scaled(LinearRegression()),
    "Ridge(a=0.1)": lambda: scaled(Ridge(alpha=0.1)),
    "Ridge(a=1)": lambda: scaled(Ridge(alpha=1.0)),
    "Ridge(a=10)": lambda: scaled(Ridge(alpha=10.0)),
    "Lasso(a=0.1)": lambda: scaled(Lasso(alpha=0.1, max_iter=10_000)),
    "Lasso(a=1)": lambda: scaled(Lasso(alpha=1.0, max_iter=10_000)),
    "ElasticNet(a=0.1,l1=0.5)": lambda: scaled(ElasticNet(alpha=0.1, l1_ratio=0.5, max_iter=10_000)),
    "RandomForest(100)": lambda: bare(RandomForestRegressor(n_estimators=100, random_state=SEED)),
    "GradientBoosting": lambda: bare(GradientBoostingRegressor(random_state=SEED)),
    "HistGradientBoosting": lambda: bare(HistGradientBoostingRegressor(random_state=SEED)),
}


def median_us(fn, repeat=30, budget_s=0.02):
    """Median per-call time in microseconds; `number` sized so one repeat takes ~budget_s.

    The median of many short repeats shrugs off scheduler noise that a single long run would average in.
    """
    fn()  # warm-up
    start = time.perf_counter()
    fn()
    one_call_s = max(time.perf_counter() - start, 1e-7)
    number = max(5, min(2000, int(budget_s / one_call_s)))
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def single_threaded_session_options():
    """One thread each, so onnxruntime latency is compared with a single-threaded scikit-learn."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


def to_onnx_quietly(pipe, sample):
    """Convert with skl2onnx, hiding its deprecation chatter, which would bury the table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skl2onnx.to_onnx(pipe, sample)


def run_session(session, input_name, rows):
    """One onnxruntime call; a named function so it can be timed via `partial` without a loop closure."""
    return session.run(None, {input_name: rows})


def measure_accuracy(row, make, x_train, y_train, x_test, y_test, cv):
    """Cross-validated R² on the training split, then held-out errors; returns the fitted pipeline and predictions."""
    cv_scores = cross_val_score(make(), x_train, y_train, cv=cv, scoring="r2")
    row["cv_r2_mean"], row["cv_r2_std"] = float(cv_scores.mean()), float(cv_scores.std())

    pipe = make()
    start = time.perf_counter()
    pipe.fit(x_train, y_train)
    row["fit_s"] = time.perf_counter() - start
    pred = pipe.predict(x_test)
    row["mae"] = mean_absolute_error(y_test, pred)
    row["rmse"] = float(np.sqrt(mean_squared_error(y_test, pred)))
    row["r2"] = r2_score(y_test, pred)
    row["pickle_bytes"] = len(pickle.dumps(pipe, protocol=pickle.HIGHEST_PROTOCOL))
    return pipe, pred


def measure_onnx_float64(row, pipe, pred, x_test, session_options):
    """Convert with float64 input (what the service uses), run it, compare with scikit-learn and time it.

    Fills `row` as it goes, so a failure part-way (e.g. at session creation) still records the ONNX size.
    """
    onx = to_onnx_quietly(pipe, x_test[:1].astype(np.float64))
    blob = onx.SerializeToString()
    row["onnx_bytes"] = len(blob)
    row["onnx_ops"] = sorted({f"{node.domain or 'ai.onnx'}:{node.op_type}" for node in onx.graph.node})
    session = ort.InferenceSession(blob, session_options, providers=CPU)
    input_name = session.get_inputs()[0].name
    outputs = session.run(None, {input_name: x_test.astype(np.float64)})
    row["onnx_outputs"] = [
        (meta.name, meta.type, list(value.shape)) for meta, value in zip(session.get_outputs(), outputs, strict=True)
    ]
    y_onnx = outputs[0]
    row["onnx_shape"] = list(y_onnx.shape)
    row["onnx_dtype"] = str(y_onnx.dtype)
    y_onnx_flat = np.asarray(y_onnx, dtype=np.float64).ravel()
    abs_diff = np.abs(y_onnx_flat - pred)
    row["max_abs"] = float(abs_diff.max())
    row["max_rel"] = float((abs_diff / np.maximum(np.abs(pred), 1e-12)).max())
    row["allclose_1e-6_abs"] = bool(np.allclose(y_onnx_flat, pred, rtol=0, atol=1e-6))

    one_row = x_test[:1].astype(np.float64)
    batch = np.resize(x_test, (BATCH_ROWS, x_test.shape[1])).astype(np.float64)
    row["ort_1_us"] = median_us(partial(run_session, session, input_name, one_row))
    row["ort_1000_us"] = median_us(partial(run_session, session, input_name, batch))


def describe_float32_fallback(pipe, pred, x_test, session_options):
    """Informational only: whether the float32-input conversion (not what the service uses) works, and how close."""
    try:
        onx32 = to_onnx_quietly(pipe, x_test[:1].astype(np.float32))
        session32 = ort.InferenceSession(onx32.SerializeToString(), session_options, providers=CPU)
        y32 = session32.run(None, {session32.get_inputs()[0].name: x_test.astype(np.float32)})[0]
        abs_diff32 = np.abs(y32.astype(np.float64).ravel() - pred)
    except Exception as exc:
        return f"float32 input also fails: {type(exc).__name__}: {str(exc)[:80]}"
    return (
        f"float32 input converts+runs: shape {list(y32.shape)} "
        f"{y32.dtype}, maxAbs {abs_diff32.max():.2e}, "
        f"maxRel {(abs_diff32 / np.abs(pred)).max():.2e}"
    )


def measure_candidate(name, make, x_train, y_train, x_test, y_test, cv, session_options):
    """Every figure for one candidate, as one row of the table."""
    row = {"name": name}
    pipe, pred = measure_accuracy(row, make, x_train, y_train, x_test, y_test, cv)
    try:
        measure_onnx_float64(row, pipe, pred, x_test, session_options)
    except Exception as exc:
        row["onnx_error"] = f"{type(exc).__name__}: {exc}"[:300]
        row["f32_fallback"] = describe_float32_fallback(pipe, pred, x_test, session_options)

    # Same inputs as the onnxruntime timings; validation skipped, as a service would after checking its payload.
    one_row = x_test[:1]
    batch = np.resize(x_test, (BATCH_ROWS, x_test.shape[1]))
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        row["skl_1_us"] = median_us(partial(pipe.predict, one_row))
        row["skl_1000_us"] = median_us(partial(pipe.predict, batch))
    coef = getattr(pipe[-1], "coef_", None)
    if coef is not None:
        row["nonzero_coef"] = int(np.count_nonzero(coef))
    return row


def print_table(rows):
    """The side-by-side table; NaN marks a figure that could not be measured (no runnable float64 ONNX)."""
    header = (
        f"{'model':26s} {'cvR2 mean±std':>15s} {'MAE':>8s} {'RMSE':>8s} {'R2':>7s} "
        f"{'fit ms':>7s} {'pkl KB':>7s} {'onnx KB':>7s} {'maxAbs':>9s} {'maxRel':>9s} "
        f"{'ort1us':>7s} {'skl1us':>7s} {'ort1k us':>8s} {'skl1k us':>8s}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['name']:26s} {row['cv_r2_mean']:7.4f}±{row['cv_r2_std']:.4f} {row['mae']:8.4f} "
            f"{row['rmse']:8.4f} {row['r2']:7.4f} {row['fit_s'] * 1e3:7.1f} {row['pickle_bytes'] / 1024:7.1f} "
            f"{row.get('onnx_bytes', NAN) / 1024:7.1f} {row.get('max_abs', NAN):9.2e} "
            f"{row.get('max_rel', NAN):9.2e} {row.get('ort_1_us', NAN):7.1f} "
            f"{row['skl_1_us']:7.1f} {row.get('ort_1000_us', NAN):8.1f} {row['skl_1000_us']:8.1f}"
        )


def print_onnx_details(rows):
    """Per model: the ONNX graph's outputs and operators, or why the float64 conversion failed."""
    for row in rows:
        if "onnx_error" in row:
            print(f"{row['name']}: ONNX(float64) FAILED {row['onnx_error'][:160]!r}")
            print(f"    {row['f32_fallback']}")
        else:
            print(
                f"{row['name']}: outputs {row['onnx_outputs']} dtype {row['onnx_dtype']} "
                f"nonzero coef {row.get('nonzero_coef')}/10 ops {row['onnx_ops']}"
            )


def main():
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    print(
        f"python {platform.python_version()}  sklearn {sklearn.__version__}  "
        f"skl2onnx {skl2onnx.__version__}  onnx {onnx.__version__}  "
        f"onnxruntime {ort.__version__}  numpy {np.__version__}"
    )

    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=SEED)
    print(f"train {x_train.shape} test {x_test.shape}  y_test range [{y_test.min():.0f}, {y_test.max():.0f}]")
    cv = KFold(n_splits=5, shuffle=True, random_state=SEED)
    session_options = single_threaded_session_options()

    rows = []
    # sklearn side single-threaded too (HGB predict uses OpenMP), so latency is comparable.
    with threadpool_limits(limits=1):
        for name, make in CANDIDATES.items():
            rows.append(measure_candidate(name, make, x_train, y_train, x_test, y_test, cv, session_options))
            print(f"done {name}", file=sys.stderr)

    print_table(rows)
    print()
    print_onnx_details(rows)
    if out_json:
        with Path(out_json).open("w") as f:
            json.dump(rows, f, indent=1, default=str)


if __name__ == "__main__":
    main()
