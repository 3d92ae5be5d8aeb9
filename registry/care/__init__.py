"""Care plans and care works: watering, pruning, felling of dead trees, and the rest."""
