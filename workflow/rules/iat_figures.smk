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
        **figure_outputs("E_m(beta)"),
        training=report(
            "results/training/{figure}.png",
            caption="../report/training.rst",
            category="Figures",
            labels={"figure": "{figure}", "panel": "training"},
        ),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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
