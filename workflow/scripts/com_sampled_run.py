"""COM-4: one student trained on the COM-2 target with sampled white-noise inputs."""

import pandas as pd

from curse_of_memory.com import dynamics, plateaus, training_curves
from curse_of_memory.pipeline import jobs
from curse_of_memory.rnn import models, training
from curse_of_memory.shared import io, seeding
from curse_of_memory.targets import datasets as targets
from curse_of_memory.targets import kernels

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
spec, seed, key = params.spec, params.seed, params.key
figure, model_name, optimizer = key
target, inputs = spec["target"], spec["inputs"]
rho = kernels.kernel_values(
    kernels.build_kernel(
        dynamics.memory_target(
            target["smooth"], spec["omega"], target["bump_width"], target["bump_height"]
        )
    ),
    inputs["length"],
    inputs["dt"],
)
# the same inputs and initial weights for every optimizer of one model
x = targets.white_noise(
    inputs["samples"],
    inputs["length"],
    1,
    inputs["dt"],
    seeding.torch_generator(seed, figure, "inputs"),
)
y = targets.LinearFunctional(rho)(x)
student = models.StudentRNN(
    models.StudentSpec(
        width=spec["width"], dt=inputs["dt"], eigen_init=tuple(spec["eigen_init"]), **params.model
    ),
    seeding.torch_generator(seed, figure, "init", model_name),
)


config = training_curves.CurveConfig(optimizer, params.lr, spec["iterations"], 500)
log(f"{model_name} with {optimizer} (lr {params.lr:g}), {spec['iterations']} iterations")
weights = training.time_weights(inputs["length"], spec["weight_power"])
losses = training_curves.training_curve(student, x, y, config, weights, log)
keep = plateaus.log_indices(len(losses), spec["points_per_decade"])
frame = pd.DataFrame(
    {"model": model_name, "optimizer": optimizer, "iteration": keep, "loss": losses[keep]}
)
io.write_csv(snakemake.output[0], frame, params.identities)
