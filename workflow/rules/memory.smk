rule figure_random_memory:
    """Memory functions of randomly initialised models of one family (IAT-10, IAT-11a)."""
    input:
        code=script_code("figure_random_memory.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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


rule figure_phase_portrait:
    """Phase portrait of dv/dt = (I - diag(v)^2) W v with its attractors (IAT-11b)."""
    input:
        code=script_code("figure_phase_portrait.py"),
    output:
        **figure_outputs(),
    log:
        FIGURE_LOG,
    benchmark:
        FIGURE_BENCHMARK
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
