"""Product categories: the company's own category vocabulary, seeded from the orders, and the preference tags it yields."""
