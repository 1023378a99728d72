"""What every layer shares: errors, where files live, crash-safe writing, the file formats' schema versions, and
the text helpers (template filling, reading tagged blocks and lists out of a model's reply)."""
