"""Knowledge-graph embeddings (PyKEEN): train on the graph's triples, score, predict links."""
