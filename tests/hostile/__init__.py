"""The hostile-input corpus: case manifests under tests/data/hostile/<kind>/cases.yaml, the recipes
that make files too big, binary or special to commit, and a runner that puts each case through the
real console script in its own process with a time and memory budget."""
