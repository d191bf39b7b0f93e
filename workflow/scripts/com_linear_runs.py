"""COM-1 (a, b): plain gradient descent of a full linear RNN on the white-noise loss."""

import numpy as np
import pandas as pd
from scipy import special

from curse_of_memory.com import dynamics, plateaus
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io, seeding

log = jobs.start_job(snakemake.log[0], snakemake.threads)
spec, seed, figure = snakemake.params.spec, snakemake.params.seed, snakemake.params.figure
linear, series, airy = spec["linear"], spec["exponential_sum"], spec["airy"]
init = linear["init"]

# (a) a random exponential sum rho(t) = sum_j a_j exp(-b_j t)
rng = seeding.numpy_generator(seed, figure, "exponential_sum")
a = rng.uniform(*series["coefficient_range"], series["terms"]) * rng.choice(
    [-1.0, 1.0], series["terms"]
)
b = rng.uniform(*series["rate_range"], series["terms"])
log(f"exponential sum: a = {np.round(a, 4).tolist()}, b = {np.round(b, 4).tolist()}")
cases = [("exponential_sum", np.nan, lambda t: a @ np.exp(-np.outer(b, t)), series["horizon"])]
# (b) Airy kernels rho(t) = Ai(scale (t - t0)) with growing delay t0
for t0 in airy["delays"]:
    cases.append(
        ("airy", t0, lambda t, t0=t0: special.airy(airy["scale"] * (t - t0))[0], t0 + airy["tail"])
    )

rows = []
for case, delay, kernel, horizon in cases:
    length = int(round(horizon / linear["dt"]))
    loss = dynamics.LinearRNNLoss.from_kernel(kernel, length, linear["dt"], linear["width"])
    theta0 = dynamics.linear_rnn_init(
        linear["width"],
        tuple(init["eigen_range"]),
        init["coupling"],
        init["scale"],
        seeding.numpy_generator(seed, figure, "linear_init"),
    )
    run = dynamics.gradient_descent(loss, theta0, linear["lr"], linear["iterations"])
    keep = plateaus.log_indices(len(run.losses), spec["points_per_decade"])
    log(
        f"{case} t0={delay}: T={length}, loss {run.losses[0]:.4e} -> {run.losses[-1]:.4e} "
        f"({run.message})"
    )
    rows += [
        {"case": case, "delay": delay, "iteration": int(k), "loss": run.losses[k]} for k in keep
    ]
io.write_csv(snakemake.output[0], pd.DataFrame(rows), snakemake.params.identities)
