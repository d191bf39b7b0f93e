"""COM figures (Li, Han, E, Li 2021): plateaus of training and the cost of approximation.

COM-1 (com_training), COM-2 (com_flow), COM-3 (com_plateau_time, reads the runs of its
com_flow source), COM-4 (com_sampled, one job per model and optimizer), COM-A
(com_approximation). Intermediate results live in results/com/<figure>/, each with its identity
record (results.smk: RUN_PATHS), checked by every reader.
"""


rule com_linear_runs:
    """COM-1 (a, b): gradient descent of a linear RNN on exponential-sum and Airy kernels."""
    input:
        code=script_code("com_linear_runs.py"),
    output:
        "results/com/{figure}/linear.csv",
    log:
        "results/logs/com/{figure}/linear.log",
    benchmark:
        "results/benchmarks/rules/com/{figure}/linear.tsv"
    wildcard_constraints:
        figure=figure_constraint("com_training"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        identities=identities,
        spec=lambda w: com_linear_spec(w.figure),
        seed=SETTINGS["seed"],
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
    script:
        "../scripts/com_linear_runs.py"


rule com_lorenz96_run:
    """COM-1 (c): a tanh RNN trained by full-batch Adam on two-scale Lorenz-96 data."""
    input:
        code=script_code("com_lorenz96_run.py"),
    output:
        "results/com/{figure}/lorenz96.csv",
    log:
        "results/logs/com/{figure}/lorenz96.log",
    benchmark:
        "results/benchmarks/rules/com/{figure}/lorenz96.tsv"
    wildcard_constraints:
        figure=figure_constraint("com_training"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        identities=identities,
        spec=lambda w: com_lorenz96_spec(w.figure)["lorenz96"],
        points_per_decade=lambda w: com_lorenz96_spec(w.figure)["points_per_decade"],
        seed=SETTINGS["seed"],
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
    script:
        "../scripts/com_lorenz96_run.py"


rule figure_com_training:
    """COM-1: loss against iterations on log axes, with plateau claims."""
    input:
        linear="results/com/{figure}/linear.csv",
        lorenz96="results/com/{figure}/lorenz96.csv",
        code=script_code("figure_com_training.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("com_training"),
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
        plateau=lambda w: FIGURES[w.figure]["plateau"],
        linear=lambda w: FIGURES[w.figure]["linear"],
        lorenz96_step=lambda w: lorenz96_step(w.figure),
    script:
        "../scripts/figure_com_training.py"


rule com_flow_run:
    """COM-2/3: gradient flow of an exponential sum on rho_omega, for one omega (its index in
    the figure's list) and one repeat: the runs at small omega take minutes each at paper scale."""
    input:
        code=script_code("com_flow_run.py"),
    output:
        curve="results/com/{figure}/runs/omega{index}/r{repeat}/curve.csv",
        summary="results/com/{figure}/runs/omega{index}/r{repeat}/summary.csv",
    log:
        "results/logs/com/{figure}/runs/omega{index}/r{repeat}.log",
    benchmark:
        "results/benchmarks/rules/com/{figure}/runs/omega{index}/r{repeat}.tsv"
    wildcard_constraints:
        figure=figure_constraint("com_flow"),
        index=r"\d+",
        repeat=r"\d+",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        identities=identities,
        spec=lambda w: com_flow_spec(w.figure),
        omega=lambda w: FIGURES[w.figure]["omegas"][int(w.index)],
        repeat=lambda w: int(w.repeat),
        seed=SETTINGS["seed"],
        figure=lambda w: w.figure,
    script:
        "../scripts/com_flow_run.py"


rule com_flows:
    """COM-2/3: every run of the figure, omega by omega, in one curve and one summary table."""
    input:
        curves=lambda w: flow_runs(w.figure, "curve"),
        summaries=lambda w: flow_runs(w.figure, "summary"),
        code=script_code("com_flows.py"),
    output:
        curves="results/com/{figure}/flows.csv",
        times="results/com/{figure}/plateau_times.csv",
    log:
        "results/logs/com/{figure}/flows.log",
    benchmark:
        "results/benchmarks/rules/com/{figure}/flows.tsv"
    wildcard_constraints:
        figure=figure_constraint("com_flow"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        identities=identities,
    script:
        "../scripts/com_flows.py"


rule figure_com_flow:
    """COM-2: loss curves of the gradient flow per omega."""
    input:
        curves="results/com/{figure}/flows.csv",
        times="results/com/{figure}/plateau_times.csv",
        code=script_code("figure_com_flow.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("com_flow"),
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
    script:
        "../scripts/figure_com_flow.py"


rule figure_com_plateau_time:
    """COM-3: plateau time against 1/omega (semi-log) with the fitted line."""
    input:
        times=lambda w: f"results/com/{FIGURES[w.figure]['source']}/plateau_times.csv",
        code=script_code("figure_com_plateau_time.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("com_plateau_time"),
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
        min_r2=lambda w: FIGURES[w.figure]["min_r2"],
    script:
        "../scripts/figure_com_plateau_time.py"


rule com_sampled_run:
    """COM-4: one student (model) trained by one optimizer on sampled white-noise inputs."""
    input:
        code=script_code("com_sampled_run.py"),
    output:
        "results/com/{figure}/{model}/{optimizer}.csv",
    log:
        "results/logs/com/{figure}/{model}/{optimizer}.log",
    benchmark:
        "results/benchmarks/rules/com/{figure}/{model}/{optimizer}.tsv"
    wildcard_constraints:
        figure=figure_constraint("com_sampled"),
        model="[A-Za-z0-9_]+",
        optimizer=one_of(OPTIMIZERS),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        identities=identities,
        spec=lambda w: com_sampled_spec(w.figure),
        model=lambda w: FIGURES[w.figure]["models"][w.model],
        lr=lambda w: FIGURES[w.figure]["optimizers"][w.optimizer],
        seed=SETTINGS["seed"],
        key=lambda w: [w.figure, w.model, w.optimizer],
    script:
        "../scripts/com_sampled_run.py"


rule figure_com_sampled:
    """COM-4: loss curves of every model under gradient descent and Adam."""
    input:
        runs=lambda w: expand(
            "results/com/{figure}/{model}/{optimizer}.csv",
            figure=w.figure,
            model=FIGURES[w.figure]["models"],
            optimizer=FIGURES[w.figure]["optimizers"],
        ),
        code=script_code("figure_com_sampled.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("com_sampled"),
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
        models=lambda w: list(FIGURES[w.figure]["models"]),
        optimizers=lambda w: list(FIGURES[w.figure]["optimizers"]),
        plateau=lambda w: FIGURES[w.figure]["plateau"],
        level_fraction=lambda w: FIGURES[w.figure]["level_fraction"],
    script:
        "../scripts/figure_com_sampled.py"


rule figure_com_approximation:
    """COM-A: L2 error of the best exponential-sum fit against width, exp and pol kernels."""
    input:
        code=script_code("figure_com_approximation.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
    wildcard_constraints:
        figure=figure_constraint("com_approximation"),
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        figure=lambda w: w.figure,
        caption=lambda w: figure_caption(w.figure),
        spec=lambda w: {k: v for k, v in FIGURES[w.figure].items() if k != "kind"},
    script:
        "../scripts/figure_com_approximation.py"
