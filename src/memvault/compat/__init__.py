"""Drop-in APIs of other memory libraries over a memvault store (`memvault.compat.mem0`)."""
