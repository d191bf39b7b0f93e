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


rule figure_sentiment:
    """Repetition memory query of one trained sentiment model (IAT-5a,b, IAT-6)."""
    input:
        model=lambda w: f"results/sentiment/{FIGURES[w.figure]['model']}/model.safetensors",
        metrics=lambda w: f"results/sentiment/{FIGURES[w.figure]['model']}/metrics.json",
        code=script_code("figure_sentiment.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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
