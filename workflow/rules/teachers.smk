rule teacher:
    """Build one target and draw its train/valid/test data."""
    input:
        code=script_code("teacher.py"),
    output:
        data="results/teachers/{experiment}/{teacher}/data.safetensors",
        weights="results/teachers/{experiment}/{teacher}/teacher.safetensors",
        info="results/teachers/{experiment}/{teacher}/teacher.json",
    log:
        "results/logs/teacher/{experiment}/{teacher}.log",
    benchmark:
        "results/benchmarks/rules/teacher/{experiment}/{teacher}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        identities=identities,
        teacher=lambda w: teacher_params(w.experiment, w.teacher)["teacher"],
        inputs=lambda w: teacher_params(w.experiment, w.teacher)["inputs"],
        sizes=lambda w: teacher_params(w.experiment, w.teacher)["sizes"],
        memory=lambda w: teacher_params(w.experiment, w.teacher)["memory"],
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    script:
        "../scripts/teacher.py"
