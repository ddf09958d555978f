"""Real data in: catalogs from price maps, quality from evals and leaderboards, workloads from request logs.

One module per source (`genai_prices`, `litellm`, `arena`, `quality` for eval CSVs, `logs` for request
logs), the tier mapping (`tiers`), the shared catalog assembly and id matching (`common`) and the
price-source comparison behind `router-opt catalog check` (`check`). Nothing here prints or reaches
the network: each function returns its result and the notes a person should read.
"""
