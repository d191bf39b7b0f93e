rule train_student:
    """Train one student of one width on one teacher's data."""
    input:
        data=rules.teacher.output.data,
        code=package_code("models", "recurrence", "training", "seeding"),
    output:
        model="results/students/{experiment}/{teacher}/m{width}/model.safetensors",
        metrics="results/students/{experiment}/{teacher}/m{width}/metrics.json",
    log:
        "results/logs/train_student/{experiment}/{teacher}/m{width}.log",
    benchmark:
        "results/benchmarks/rules/train_student/{experiment}/{teacher}/m{width}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        student=lambda w: student_params(w.experiment, w.width),
        training=lambda w: settings(w.experiment)["training"],
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    script:
        "../scripts/train_student.py"
