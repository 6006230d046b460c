"""Classification: taxonomy, versioned rules, set-based features, engine, assignments with history."""
