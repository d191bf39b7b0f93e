rule figure_perturbation:
    """E_m(beta) per width for one teacher, with the figure's claims."""
    input:
        stability=lambda w: f"results/stability/{figure_experiment(w)}/{figure_teacher(w)}.json",
        perturbation=lambda w: expand(
            "results/perturbation/{experiment}/{teacher}/m{width}.csv",
            experiment=figure_experiment(w),
            teacher=figure_teacher(w),
            width=widths(figure_experiment(w)),
        ),
        metrics=lambda w: expand(
            "results/students/{experiment}/{teacher}/m{width}/metrics.json",
            experiment=figure_experiment(w),
            teacher=figure_teacher(w),
            width=widths(figure_experiment(w)),
        ),
        code=script_code("figure_perturbation.py"),
    output:
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}", "panel": "E_m(beta)"},
        ),
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
        training=report(
            "results/training/{figure}.png",
            caption="../report/training.rst",
            category="Figures",
            labels={"figure": "{figure}", "panel": "training"},
        ),
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
    wildcard_constraints:
        figure=figure_constraint("perturbation"),
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
        title=lambda w: FIGURES[w.figure].get("title", ""),
        expect=lambda w: FIGURES[w.figure]["expect"],
        stability=lambda w: settings(figure_experiment(w))["stability"],
    script:
        "../scripts/figure_perturbation.py"


rule claims:
    """Every figure's claims in one table."""
    input:
        claims=expand("results/claims/{figure}.csv", figure=FIGURES),
        code=script_code("claims_table.py"),
    output:
        report("results/claims.csv", caption="../report/claims.rst", category="Claims"),
    log:
        "results/logs/claims.log",
    benchmark:
        "results/benchmarks/rules/claims.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/claims_table.py"


rule figure_filter:
    """Students of a kept teacher, its memory function, and all teachers kept or rejected."""
    input:
        filter=lambda w: f"results/filter/{figure_experiment(w)}.csv",
        stability=lambda w: expand(
            "results/stability/{experiment}/{teacher}.json",
            experiment=figure_experiment(w),
            teacher=teachers(figure_experiment(w)),
        ),
        info=lambda w: expand(
            "results/teachers/{experiment}/{teacher}/teacher.json",
            experiment=figure_experiment(w),
            teacher=teachers(figure_experiment(w)),
        ),
        perturbation=lambda w: expand(
            "results/perturbation/{experiment}/{teacher}/m{width}.csv",
            experiment=figure_experiment(w),
            teacher=teachers(figure_experiment(w)),
            width=widths(figure_experiment(w)),
        ),
        code=script_code("figure_filter.py"),
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
        figure=figure_constraint("filter"),
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
        title=lambda w: FIGURES[w.figure].get("title", ""),
        teachers=lambda w: teachers(figure_experiment(w)),
        widths=lambda w: widths(figure_experiment(w)),
    script:
        "../scripts/figure_filter.py"


rule figure_teacher_memory:
    """The memory function of one teacher."""
    input:
        info=lambda w: f"results/teachers/{figure_experiment(w)}/{figure_teacher(w)}/teacher.json",
        code=script_code("figure_teacher_memory.py"),
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
        figure=figure_constraint("teacher_memory"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        identities=identities,
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        title=lambda w: FIGURES[w.figure].get("title", ""),
        expect=lambda w: FIGURES[w.figure]["expect"],
    script:
        "../scripts/figure_teacher_memory.py"


rule config_used:
    """The configuration of this run, every default included, for the report."""
    input:
        code=script_code("config_used.py"),
    output:
        report(
            "results/config_used.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        "results/logs/config_used.log",
    benchmark:
        "results/benchmarks/rules/config_used.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        settings=SETTINGS,
    script:
        "../scripts/config_used.py"


rule runtimes:
    """Per-stage wall time and memory from every other job's benchmark file."""
    input:
        "results/claims.csv",
        "results/config_used.yaml",
        all_figures(),
        memory_tables(),
        code=script_code("runtimes.py"),
    output:
        report(
            "results/runtimes.csv",
            caption="../report/runtimes.rst",
            category="Runtimes",
        ),
    log:
        "results/logs/runtimes.log",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        benchmarks="results/benchmarks/rules",
    script:
        "../scripts/runtimes.py"
