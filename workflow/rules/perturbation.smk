rule perturb:
    """Test losses of R perturbed copies of one student at every beta of the grid."""
    input:
        model=rules.train_student.output.model,
        metrics=rules.train_student.output.metrics,
        data=rules.teacher.output.data,
    output:
        "results/perturbation/{experiment}/{teacher}/m{width}.csv",
    params:
        perturbation=lambda w: perturbation_params(w.experiment),
        loss=lambda w: loss_params(w.experiment),
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    log:
        "results/logs/perturb/{experiment}/{teacher}/m{width}.log",
    benchmark:
        "results/benchmarks/rules/perturb/{experiment}/{teacher}/m{width}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    script:
        "../scripts/perturb.py"
