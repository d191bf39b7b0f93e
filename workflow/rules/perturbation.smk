rule perturb:
    """Test losses of R perturbed copies of one student at every beta of the grid."""
    input:
        model=rules.train_student.output.model,
        metrics=rules.train_student.output.metrics,
        data=rules.teacher.output.data,
        code=script_code("perturb.py"),
    output:
        "results/perturbation/{experiment}/{teacher}/m{width}.csv",
    log:
        "results/logs/perturb/{experiment}/{teacher}/m{width}.log",
    benchmark:
        "results/benchmarks/rules/perturb/{experiment}/{teacher}/m{width}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        identities=identities,
        perturbation=lambda w: perturbation_params(w.experiment),
        loss=lambda w: loss_params(w.experiment),
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    script:
        "../scripts/perturb.py"
