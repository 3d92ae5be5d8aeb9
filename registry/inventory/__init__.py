"""The inventory: green spaces, the plants in them, and their inspections."""
