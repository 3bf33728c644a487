"""`memvault mcp`: a Model Context Protocol server over one user's memories, conversations
and routing scores (the optional `memvault[mcp]` extra; the core never imports it)."""
