def figure_experiment(wildcards):
    return FIGURES[wildcards.figure]["experiment"]


def figure_teacher(wildcards):
    return FIGURES[wildcards.figure].get("teacher", "t0")


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
    output:
        png="results/figures/{figure}.png",
        pdf="results/figures/{figure}.pdf",
        csv="results/figures/{figure}.csv",
        claims="results/claims/{figure}.csv",
    wildcard_constraints:
        figure=figure_constraint("perturbation"),
    params:
        figure=lambda w: w.figure,
        title=lambda w: FIGURES[w.figure].get("title", ""),
        expect=lambda w: FIGURES[w.figure]["expect"],
        stability=lambda w: settings(figure_experiment(w))["stability"],
    log:
        "results/logs/figure/{figure}.log",
    benchmark:
        "results/benchmarks/rules/figure/{figure}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../scripts/figure_perturbation.py"


rule claims:
    """Every figure's claims in one table."""
    input:
        expand("results/claims/{figure}.csv", figure=FIGURES),
    output:
        "results/claims.csv",
    log:
        "results/logs/claims.log",
    benchmark:
        "results/benchmarks/rules/claims.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../scripts/claims_table.py"
