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
        code=package_code("stability", "perturbation", "seeding"),
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
        mem_mb=2000,
        runtime=10,
    params:
        widths=lambda w: widths(w.experiment),
        stability=lambda w: settings(w.experiment)["stability"],
        seed=SETTINGS["seed"],
        key=job_key,
    script:
        "../scripts/stability.py"
