rule stability:
    """Crossing points, margins and the stability verdict for one teacher's students."""
    input:
        perturbation=lambda w: expand(
            "results/perturbation/{experiment}/{teacher}/m{width}.csv",
            width=widths(w.experiment),
            allow_missing=True,
        ),
        metrics=lambda w: expand(
            "results/students/{experiment}/{teacher}/m{width}/metrics.json",
            width=widths(w.experiment),
            allow_missing=True,
        ),
        model=lambda w: expand(
            "results/students/{experiment}/{teacher}/m{width}/model.safetensors",
            width=widths(w.experiment),
            allow_missing=True,
        ),
        info="results/teachers/{experiment}/{teacher}/teacher.json",
        data=rules.teacher.output.data,
        code=script_code("stability.py"),
    output:
        "results/stability/{experiment}/{teacher}.json",
    log:
        "results/logs/stability/{experiment}/{teacher}.log",
    benchmark:
        "results/benchmarks/rules/stability/{experiment}/{teacher}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    params:
        identities=identities,
        widths=lambda w: widths(w.experiment),
        stability=lambda w: settings(w.experiment)["stability"],
        loss=lambda w: loss_params(w.experiment),
        samples=lambda w: perturbation_params(w.experiment)["samples"],
        horizon=lambda w: horizon(w.experiment),
        margin_reachable=lambda w: margin_reachable(w.experiment),
        exact_memory=lambda w: exact_memory(w.experiment),
        seed=SETTINGS["seed"],
        key=job_key,
    script:
        "../scripts/stability.py"


rule filter_teachers:
    """Keep, reject or leave undetermined each teacher of an experiment by its stability."""
    input:
        stability=lambda w: expand(
            "results/stability/{experiment}/{teacher}.json",
            experiment=w.experiment,
            teacher=teachers(w.experiment),
        ),
        info=lambda w: expand(
            "results/teachers/{experiment}/{teacher}/teacher.json",
            experiment=w.experiment,
            teacher=teachers(w.experiment),
        ),
        code=script_code("filter_teachers.py"),
    output:
        "results/filter/{experiment}.csv",
    log:
        "results/logs/filter/{experiment}.log",
    benchmark:
        "results/benchmarks/rules/filter/{experiment}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        identities=identities,
        teachers=lambda w: teachers(w.experiment),
    script:
        "../scripts/filter_teachers.py"
