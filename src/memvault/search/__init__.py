"""Search: query syntax, fusion, the query API (see memvault.search.query) and the
indexes only the search reads: full-text with BM25, exact vectors, approximate vector files."""
