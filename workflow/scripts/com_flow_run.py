"""COM-2/3: gradient flow of sum_i c_i exp(-w_i t) on rho_omega for one omega and one repeat."""

import numpy as np
import pandas as pd

from curse_of_memory.com import dynamics, plateaus
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io, seeding
from curse_of_memory.targets import kernels

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
spec, omega, repeat = params.spec, params.omega, params.repeat
target, init = spec["target"], spec["init"]
solver = dynamics.FlowConfig(**spec["solver"])

horizon = 1.0 / omega + spec["horizon_tail"]
rho = kernels.build_kernel(
    dynamics.memory_target(target["smooth"], omega, target["bump_width"], target["bump_height"])
)
bump = kernels.build_kernel({"family": "bump", "t0": 1.0 / omega, "w": target["bump_width"]})
loss = dynamics.ExponentialSumLoss.from_kernel(rho, horizon, **spec["quadrature"])
plateau_loss = (
    target["bump_height"] ** 2
    * dynamics.ExponentialSumLoss.from_kernel(bump, horizon, **spec["quadrature"]).target_energy()
)
theta0 = dynamics.exponential_sum_init(  # the same draw for every omega of one repeat
    spec["width"],
    init["c_scale"],
    tuple(init["w_range"]),
    seeding.numpy_generator(params.seed, params.figure, "init", repeat),
)
run = dynamics.gradient_flow(loss, theta0, solver)
final = float(run.losses[-1])
gradient_norm = float(np.linalg.norm(loss(run.thetas[-1])[1]))
level = plateaus.escape_level(plateau_loss, final, spec["level_fraction"])
plateau_time = plateaus.first_crossing(run.times, run.losses, level)
log(
    f"omega={omega:g} repeat={repeat}: plateau time {plateau_time:.4g}, "
    f"loss {plateau_loss:.4g} -> {final:.4g}, |grad| {gradient_norm:.2e}; {run.message}"
)
io.write_csv(
    snakemake.output.curve,
    pd.DataFrame({"omega": omega, "repeat": repeat, "time": run.times, "loss": run.losses}),
    params.identities,
)
summary = {
    "omega": omega,
    "inverse_omega": 1.0 / omega,
    "repeat": repeat,
    "plateau_loss": plateau_loss,
    "final_loss": final,
    "level": level,
    "plateau_time": plateau_time,
    "final_gradient_norm": gradient_norm,
    "final_parameters": " ".join(f"{v:.6g}" for v in run.thetas[-1]),
    "solver": run.message,
}
io.write_csv(snakemake.output.summary, pd.DataFrame([summary]), params.identities)
