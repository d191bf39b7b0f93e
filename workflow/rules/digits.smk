rule train_digits:
    """Train the sequential-digits classifier under one parameterization, one repeat."""
    input:
        code=script_code("train_digits.py"),
    output:
        model="results/digits/{parameterization}/r{repeat}/model.safetensors",
        metrics="results/digits/{parameterization}/r{repeat}/metrics.json",
    log:
        "results/logs/train_digits/{parameterization}/r{repeat}.log",
    benchmark:
        "results/benchmarks/rules/train_digits/{parameterization}/r{repeat}.tsv"
    wildcard_constraints:
        parameterization=one_of(PARAMETERIZATIONS),
        repeat="[0-9]+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        identities=identities,
        digits=lambda w: digits_params(),
        seed=SETTINGS["seed"],
    script:
        "../scripts/train_digits.py"


rule figure_digits:
    """Learning curves of every parameterization, mean and standard error (IAT-9)."""
    input:
        metrics=lambda w: digits_runs("results/digits/{parameterization}/r{repeat}/metrics.json"),
        models=lambda w: digits_runs(
            "results/digits/{parameterization}/r{repeat}/model.safetensors"
        ),
        code=script_code("figure_digits.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("digits_training"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        identities=identities,
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        title=lambda w: FIGURES[w.figure].get("title", ""),
        speed_tolerance=SETTINGS.get("digits", {}).get("speed_tolerance"),
        init_tolerance=SETTINGS.get("digits", {}).get("init_tolerance"),
    script:
        "../scripts/figure_digits.py"


rule table_digits:
    """Table 1: test loss and accuracy per parameterization, mean and standard error."""
    input:
        metrics=lambda w: digits_runs("results/digits/{parameterization}/r{repeat}/metrics.json"),
        code=script_code("table_digits.py"),
    output:
        csv=report(
            "results/tables/IAT-table1.csv",
            caption="../report/table1.rst",
            category="Tables",
        ),
        md="results/tables/IAT-table1.md",
    log:
        "results/logs/tables/IAT-table1.log",
    benchmark:
        "results/benchmarks/rules/tables/IAT-table1.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        identities=identities,
    script:
        "../scripts/table_digits.py"
