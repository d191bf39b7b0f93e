"""Teacher stage: build one target, draw its train/valid/test data, measure its memory."""

from curse_of_memory.memory import decay as memory
from curse_of_memory.pipeline import jobs
from curse_of_memory.shared import io, seeding
from curse_of_memory.targets import datasets as targets
from curse_of_memory.targets import teachers

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
inputs = targets.InputSpec(**params.inputs)
dtype = jobs.torch_dtype(params.dtype)
generator = seeding.torch_generator(params.seed, "teacher", *params.key)
teacher = teachers.build_teacher(params.teacher, inputs, generator, dtype)
log(f"teacher {params.key}: {params.teacher}")
data = targets.make_splits(teacher, params.sizes, inputs, generator, dtype)
decay_settings = {key: value for key, value in params.memory.items() if key != "draws"}
functions = {}
for kind in ("heaviside", "impulse"):
    draws = seeding.torch_generator(params.seed, "memory", *params.key)
    times, values = memory.memory_function(
        teacher, inputs.length, inputs.dt, inputs.dim, kind, params.memory["draws"], draws, dtype
    )
    fit = memory.classify_decay(times, values, **decay_settings)
    functions[kind] = {"times": times.tolist(), "values": values.tolist(), "decay": fit.to_dict()}
    log(
        f"{kind} memory: {fit.label}, rate {fit.exponential_rate:.3g}, "
        f"power {fit.polynomial_power:.3g}"
    )
io.save_tensors(snakemake.output.data, data, identities=params.identities)
io.save_tensors(snakemake.output.weights, teacher.state_dict(), identities=params.identities)
info = {"teacher": params.teacher, "memory": functions}
io.write_json(snakemake.output.info, info, params.identities)
log("done")
