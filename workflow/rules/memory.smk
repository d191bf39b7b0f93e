rule random_memory_figure:
    """Memory functions of randomly initialised models of one family (IAT-10, IAT-11a)."""
    input:
        code=script_code("figure_random_memory.py"),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
    wildcard_constraints:
        figure=figure_constraint("random_memory"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        spec=lambda w: FIGURES[w.figure],
        family=lambda w: SETTINGS["random_memory"]["families"][FIGURES[w.figure]["family"]],
        draws=SETTINGS.get("random_memory", {}).get("draws"),
        input_draws=SETTINGS.get("random_memory", {}).get("input_draws"),
        fit=SETTINGS.get("random_memory", {}).get("fit"),
        seed=SETTINGS["seed"],
    script:
        "../scripts/figure_random_memory.py"


rule phase_portrait_figure:
    """Phase portrait of dv/dt = (I - diag(v)^2) W v with its attractors (IAT-11b)."""
    input:
        code=script_code("figure_phase_portrait.py"),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
    wildcard_constraints:
        figure=figure_constraint("phase_portrait"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        spec=lambda w: FIGURES[w.figure],
    script:
        "../scripts/figure_phase_portrait.py"


rule train_sentiment:
    """Train one classifier on the synthetic sentiment corpus."""
    input:
        code=script_code("train_sentiment.py"),
    output:
        model="results/sentiment/{model}/model.safetensors",
        metrics="results/sentiment/{model}/metrics.json",
    log:
        "results/logs/train_sentiment/{model}.log",
    benchmark:
        "results/benchmarks/rules/train_sentiment/{model}.tsv"
    wildcard_constraints:
        model=one_of(sentiment_models()),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        identities=identities,
        sentiment=lambda w: sentiment_params(w.model),
        seed=SETTINGS["seed"],
    script:
        "../scripts/train_sentiment.py"


rule sentiment_figure:
    """Repetition memory query of one trained sentiment model (IAT-5a,b, IAT-6)."""
    input:
        model=lambda w: f"results/sentiment/{FIGURES[w.figure]['model']}/model.safetensors",
        metrics=lambda w: f"results/sentiment/{FIGURES[w.figure]['model']}/metrics.json",
        code=script_code("figure_sentiment.py"),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
    wildcard_constraints:
        figure=figure_constraint("sentiment_memory"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        identities=identities,
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        spec=lambda w: FIGURES[w.figure],
        corpus=SETTINGS.get("sentiment", {}).get("corpus"),
        model=lambda w: SETTINGS["sentiment"]["models"][FIGURES[w.figure]["model"]],
        query=SETTINGS.get("sentiment", {}).get("query"),
        fit=SETTINGS.get("sentiment", {}).get("fit"),
        min_accuracy=SETTINGS.get("sentiment", {}).get("min_accuracy"),
    script:
        "../scripts/figure_sentiment.py"


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


rule digits_figure:
    """Learning curves of every parameterization, mean and standard error (IAT-9)."""
    input:
        metrics=lambda w: digits_runs("results/digits/{parameterization}/r{repeat}/metrics.json"),
        models=lambda w: digits_runs(
            "results/digits/{parameterization}/r{repeat}/model.safetensors"
        ),
        code=script_code("figure_digits.py"),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
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


rule digits_table:
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
