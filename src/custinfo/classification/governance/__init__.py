"""Tag governance: proposals, reviews and the settings that steer them."""
