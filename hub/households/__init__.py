"""The household as the hub sees it: read with reach, joined across departments, judged.

``reach`` says which households a caller may see at all; ``service.Households`` reads the
index entries in reach and each department's records for them in batches, with their
provenance; ``facts`` derives what the rules ask (totals, zero employment, serious
illness, ...) by plain functions. GraphQL resolvers, jobs and tests all go through here.
"""
