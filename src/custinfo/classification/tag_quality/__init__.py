"""Tag quality: usage, corrections, anomalies and the periodic review."""
