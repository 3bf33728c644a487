"""Search: query syntax, filters, fusion and the query API (see memvault.search.query)."""
