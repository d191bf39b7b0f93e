"""Teacher stage: build the target of one experiment and draw its train/valid/test data."""

from curse_of_memory import io, jobs, kernels, memory, seeding, targets

log = jobs.start_job(snakemake.log[0], snakemake.threads)
params = snakemake.params
inputs = targets.InputSpec(**params.inputs)
dtype = jobs.DTYPES[params.dtype]
rho = kernels.kernel_values(
    kernels.build_kernel(params.teacher["kernel"]), inputs.length, inputs.dt
)
teacher = targets.LinearFunctional(rho).to(dtype)
generator = seeding.torch_generator(params.seed, "teacher", *params.key)
data = targets.make_splits(teacher, params.sizes, inputs, generator, dtype)
log(f"teacher {params.key}: kernel {params.teacher['kernel']}, sizes {dict(params.sizes)}")
times, values = memory.memory_function(teacher, inputs.length, inputs.dt, inputs.dim, "impulse")
io.save_tensors(snakemake.output.data, data)
io.write_json(
    snakemake.output.info,
    {
        "kind": params.teacher["kind"],
        "kernel": params.teacher["kernel"],
        "memory": {"kind": "impulse", "times": times.tolist(), "values": values.tolist()},
        "decay": memory.classify_decay(times, values).to_dict(),
    },
)
log("done")
