rule claims_table:
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
