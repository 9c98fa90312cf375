"""`kgrag eval`: QA datasets, metrics, the evaluation run and its results file."""
