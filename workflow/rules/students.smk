rule train_segment:
    """Train one student up to an intermediate epoch and checkpoint it: with
    training.epochs_per_job > 0, a long training runs as a chain of jobs of that many epochs."""
    input:
        data=rules.teacher.output.data,
        resume=lambda w: checkpoint_before(w, int(w.epoch)),
        previous=previous_student,
        code=script_code("train_student.py"),
    output:
        "results/students/{experiment}/{teacher}/m{width}/upto{epoch}.safetensors",
    log:
        "results/logs/train_segment/{experiment}/{teacher}/m{width}/upto{epoch}.log",
    benchmark:
        "results/benchmarks/rules/train_segment/{experiment}/{teacher}/m{width}/upto{epoch}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        identities=identities,
        student=lambda w: student_params(w.experiment, w.width),
        training=lambda w: training_params(w.experiment),
        until_epoch=lambda w: int(w.epoch),
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    script:
        "../scripts/train_student.py"


rule train_student:
    """Train one student of one width on one teacher's data (its last job, if split)."""
    input:
        data=rules.teacher.output.data,
        resume=lambda w: checkpoint_before(w, None),
        previous=previous_student,
        previous_metrics=previous_metrics,
        code=script_code("train_student.py"),
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
        identities=identities,
        student=lambda w: student_params(w.experiment, w.width),
        training=lambda w: training_params(w.experiment),
        until_epoch=None,
        restart_factor=lambda w: restart_factor(w.experiment),
        seed=SETTINGS["seed"],
        dtype=SETTINGS["dtype"],
        key=job_key,
    script:
        "../scripts/train_student.py"
