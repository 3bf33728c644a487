"""Moving legacy assistant data into memvault: source readers, the import pipeline, transfer."""
